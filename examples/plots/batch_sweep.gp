# Figure 4: SCG's training (solid) and validation (dashed) loss for several
# minibatch sizes, from batch_sweep's logs: accumulated over minibatches, the
# full-dataset gradient and curvature do not depend on the batch size.
# gnuplot -e "dir='out/batch_sweep'; outfile='docs/figures/fig4_batch_sweep.png'" examples/plots/batch_sweep.gp
if (!exists("dir")) dir = "out/batch_sweep"
if (!exists("outfile")) outfile = dir."/fig4_batch_sweep.png"
set terminal pngcairo size 900,600 enhanced font "DejaVu Sans,11"
set output outfile
set datafile separator ","
set datafile missing "nan"
set grid lc rgb "#dddddd"
files = system("cd ".dir." && { ls batch_[0-9]*.csv | sort -t_ -k2 -n; ls batch_all.csv; } 2>/dev/null")
colors = "#1f77b4 #ff7f0e #2ca02c #9467bd #d62728 #8c564b #17becf"
maxdiff = system("awk -F, 'NR > 1 { for (i = 2; i <= 3; i++) if ($i + 0 > m) m = $i + 0 } END { printf \"%.2g\", m }' ".dir."/batch_sweep_summary.csv")
size(f) = (s = f[7:strlen(f) - 4], s eq "all" ? "-1 (whole set)" : s)
set title "SCG loss per iteration for each minibatch size: train solid, validation dashed\nlargest relative difference across batch sizes: ".maxdiff
set xlabel "iteration (= epoch)"
set ylabel "mean cross-entropy loss"
set logscale y
set key top right box opaque
plot for [i = 1:words(files)] dir."/".word(files, i) using "epoch":"train_loss" with lines lw 2 * (words(files) + 1 - i) lc rgb word(colors, i) title "batch ".size(word(files, i)), \
     for [i = 1:words(files)] dir."/".word(files, i) using "epoch":"val_loss" with lines lw 2 * (words(files) + 1 - i) dt 2 lc rgb word(colors, i) notitle

# The race (scripts/race.sh): test error (100 % − test accuracy, log scale)
# against passes over the training data and against optimizer seconds, one
# curve per run, the article's 97.92 % (2.08 % error) as a line.
# gnuplot -e "dir='out/race'; outfile='docs/figures/race.png'" examples/plots/race.gp
if (!exists("dir")) dir = "out/race"
if (!exists("outfile")) outfile = dir."/race.png"
# The runs drawn (scripts/race.sh's names) and their titles: by default the
# second-order methods and the best Adam and SGD of the grids.
if (!exists("runs")) runs = "scg hf-lambda-0.05 trust-ncg adam-1e-3 sgd-0.1"
if (!exists("names")) names = "SCG HF(10%,λ₁=0.05) TR-NCG(10%) Adam-1e-3 SGD-0.1"
colors = "#d62728 #1f77b4 #17becf #ff7f0e #2ca02c #9467bd #8c564b #7f7f7f #bcbd22 #e377c2"
n = words(runs)
f(i) = dir."/".word(runs, i).".csv"
set terminal pngcairo size 1200,520 enhanced font "DejaVu Sans,11"
set output outfile
set datafile separator ","
set datafile missing "nan"
set grid lc rgb "#dddddd"
set logscale y
set yrange [1:40]
set ytics (1, 1.5, 2, 3, 5, 10, 20, 40)
set ylabel "test error, % (log scale)"
set key top right
set multiplot layout 1,2 title "Article CNN, full MNIST (50,000 / 10,000 / 10,000), float32, one initialization"
set xlabel "passes over the training data"
plot for [i = 1:n] f(i) using "passes":(100 * (1 - column("test_accuracy"))) with linespoints pt 7 ps 0.4 lw 2 lc rgb word(colors, i) title word(names, i), \
     2.08 with lines dt 2 lc rgb "black" title "97.92 % accuracy (the article)"
set xlabel "seconds (optimizer time, 2 threads)"
plot for [i = 1:n] f(i) using "seconds":(100 * (1 - column("test_accuracy"))) with linespoints pt 7 ps 0.4 lw 2 lc rgb word(colors, i) title word(names, i), \
     2.08 with lines dt 2 lc rgb "black" notitle
unset multiplot

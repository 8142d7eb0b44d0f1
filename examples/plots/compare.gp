# The optimizer comparison: SCG vs SGD vs Adam from one initialization, loss
# against passes over the training data and against seconds, from compare's logs.
# gnuplot -e "dir='out/compare'; outfile='docs/figures/compare.png'" examples/plots/compare.gp
if (!exists("dir")) dir = "out/compare"
if (!exists("outfile")) outfile = dir."/compare.png"
set terminal pngcairo size 1100,480 enhanced font "DejaVu Sans,11"
set output outfile
set datafile separator ","
set datafile missing "nan"
set grid lc rgb "#dddddd"
set logscale y
set ylabel "mean cross-entropy loss"
opts = "scg sgd adam"
names = "SCG SGD Adam"
colors = "#d62728 #2ca02c #ff7f0e"
f(i) = dir."/compare_".word(opts, i).".csv"
set multiplot layout 1,2 title "Optimizers on the same model and data from one initialization: train solid, validation dashed"
set key top right
set xlabel "passes over the training data"
plot for [i = 1:3] f(i) using "passes":"train_loss" with linespoints pt 7 ps 0.5 lw 2 lc rgb word(colors, i) title word(names, i), \
     for [i = 1:3] f(i) using "passes":"val_loss" with lines dt 2 lw 2 lc rgb word(colors, i) notitle
set xlabel "seconds (optimizer time)"
plot for [i = 1:3] f(i) using "seconds":"train_loss" with linespoints pt 7 ps 0.5 lw 2 lc rgb word(colors, i) title word(names, i), \
     for [i = 1:3] f(i) using "seconds":"val_loss" with lines dt 2 lw 2 lc rgb word(colors, i) notitle
unset multiplot

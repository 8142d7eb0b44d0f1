# The race (scripts/race.sh): test accuracy against passes over the training
# data and against optimizer seconds, one curve per run, the article's 97.92 %
# as a line.
# gnuplot -e "dir='out/race'; outfile='docs/figures/race.png'" examples/plots/race.gp
if (!exists("dir")) dir = "out/race"
if (!exists("outfile")) outfile = dir."/race.png"
if (!exists("runs")) runs = "scg scg-gn hf trust-ncg lbfgs cg adam-1e-3 sgd-0.03"
if (!exists("names")) names = "SCG SCG-Gauss-Newton HF TR-NCG L-BFGS CG Adam-1e-3 SGD-0.03"
colors = "#d62728 #9467bd #1f77b4 #17becf #8c564b #7f7f7f #ff7f0e #2ca02c"
n = words(runs)
f(i) = dir."/".word(runs, i).".csv"
set terminal pngcairo size 1200,520 enhanced font "DejaVu Sans,11"
set output outfile
set datafile separator ","
set datafile missing "nan"
set grid lc rgb "#dddddd"
set yrange [0.9:0.99]
set ylabel "test accuracy"
set key bottom right
set multiplot layout 1,2 title "Article CNN, full MNIST (50,000 / 10,000 / 10,000), float32, one initialization"
set xlabel "passes over the training data"
plot for [i = 1:n] f(i) using "passes":"test_accuracy" with linespoints pt 7 ps 0.4 lw 2 lc rgb word(colors, i) title word(names, i), \
     0.9792 with lines dt 2 lc rgb "black" title "97.92 % (the article)"
set xlabel "seconds (optimizer time, 2 threads)"
plot for [i = 1:n] f(i) using "seconds":"test_accuracy" with linespoints pt 7 ps 0.4 lw 2 lc rgb word(colors, i) title word(names, i), \
     0.9792 with lines dt 2 lc rgb "black" notitle
unset multiplot

# Figure 3: SCG's trace while training, one iteration per epoch, from curv-train's log.
#  (a) successful updates and the training / validation likelihood exp(-mean loss)
#  (b) the mean over all parameters of the conjugate direction p and of the gradient
#  (c) δ, λ and λ̄ on a log axis
# gnuplot -e "log='out/scg.csv'; outfile='docs/figures/fig3_scg_trace.png'" examples/plots/scg_trace.gp
if (!exists("log")) log = "out/scg.csv"
if (!exists("outfile")) outfile = "out/fig3_scg_trace.png"
set terminal pngcairo size 900,1000 enhanced font "DejaVu Sans,10"
set output outfile
set datafile separator ","
set datafile missing "nan"
set key autotitle columnhead
set grid lc rgb "#dddddd"
set multiplot layout 3,1 title "SCG trace, one iteration per epoch (".system("basename ".log).")" noenhanced
set lmargin 12
set xlabel "iteration (= epoch)"

set title "(a) successful updates and likelihood exp(-loss)"
set ylabel "exp(-mean loss)"
set yrange [0:1.05]
set key bottom right
plot log using "epoch":(exp(-column("train_loss"))) with lines lw 2 lc rgb "#1f77b4" title "train", \
     log using "epoch":(exp(-column("val_loss"))) with lines lw 2 dt 2 lc rgb "#ff7f0e" title "validation", \
     log using "epoch":(column("success") == 1 ? 0.02 : NaN) with points pt 7 ps 0.6 lc rgb "#2ca02c" title "successful update", \
     log using "epoch":(column("success") == 0 ? 0.02 : NaN) with points pt 2 ps 0.8 lc rgb "#d62728" title "failed update"

set title "(b) mean of p and of the gradient over all parameters"
set ylabel "mean"
set autoscale y
set key top right
plot log using "epoch":"p_mean" with linespoints pt 7 ps 0.5 lw 1.5 lc rgb "#9467bd" title "mean p", \
     log using "epoch":"grad_mean" with linespoints pt 5 ps 0.5 lw 1.5 lc rgb "#8c564b" title "mean gradient"

set title "(c) δ, λ and λ̄ (log scale; δ ≤ 0 and λ̄ = 0 are not drawn)"
set ylabel "value"
set logscale y
set format y "10^{%T}"
plot log using "epoch":(column("delta") > 0 ? column("delta") : NaN) with linespoints pt 7 ps 0.5 lw 1.5 lc rgb "#1f77b4" title "δ", \
     log using "epoch":(column("lambda") > 0 ? column("lambda") : NaN) with linespoints pt 5 ps 0.5 lw 1.5 lc rgb "#d62728" title "λ", \
     log using "epoch":(column("lambda_bar") > 0 ? column("lambda_bar") : NaN) with points pt 9 ps 0.9 lc rgb "#2ca02c" title "λ̄"
unset multiplot

# Figure 1: f(x) = x² + e^(−5(x−0.5)²), the parabola fitted at x₀ and the Newton step.
# gnuplot -e "dir='out'; outfile='docs/figures/fig1_newton1d.png'" examples/plots/newton1d.gp
if (!exists("dir")) dir = "out"
if (!exists("outfile")) outfile = dir."/fig1_newton1d.png"
set terminal pngcairo size 800,560 enhanced font "DejaVu Sans,11"
set output outfile
set datafile separator ","
set key top center Left reverse box opaque
set xlabel "x"
set ylabel "f(x)"
set title "Newton step on f(x) = x^2 + e^{-5(x-0.5)^2} from x_0 = 1.15"
set yrange [0:3]
set grid lc rgb "#dddddd"
step = dir."/newton1d_step.csv"
stats step using 1 nooutput
x0 = STATS_min
stats step using 2 nooutput
f0 = STATS_min
stats step using 5 nooutput
x1 = STATS_min
stats step using 6 nooutput
f1 = STATS_min
stats step using 7 nooutput
q1 = STATS_min
set arrow 1 from x0, f0 to x1, q1 head filled lw 2 lc rgb "#d62728"
set arrow 2 from x1, q1 to x1, f1 nohead dt 3 lw 1.5 lc rgb "#555555"
plot dir."/newton1d_curve.csv" using 1:2 skip 1 with lines lw 2.5 lc rgb "#1f77b4" title "f(x)", \
     "" using 1:3 skip 1 with lines lw 2 dt 2 lc rgb "#ff7f0e" title "parabola fitted at x_0 (exact f', f'')", \
     step using 1:2 skip 1 with points pt 7 ps 1.5 lc rgb "#000000" title "x_0", \
     step using 5:6 skip 1 with points pt 9 ps 1.8 lc rgb "#d62728" title "Newton step x_1 = x_0 - f'/f''"

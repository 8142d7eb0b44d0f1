# Figure 2: optimization paths on the Rosenbrock function from the same start.
# gnuplot -e "dir='out'; outfile='docs/figures/fig2_rosenbrock.png'" examples/plots/rosenbrock.gp
if (!exists("dir")) dir = "out"
if (!exists("outfile")) outfile = dir."/fig2_rosenbrock.png"
set terminal pngcairo size 900,680 enhanced font "DejaVu Sans,11"
rosen(x, y) = (1 - x)**2 + 100 * (y - x**2)**2

# Contour lines of log10 f into a data block.
set table $contours
set contour base
set cntrparam levels discrete -2, -1, 0, 0.5, 1, 1.5, 2, 2.5, 3
unset surface
set view map
set isosamples 300, 300
set samples 300, 300
splot [-2:2] [-1:3] log10(rosen(x, y) + 1e-12)
unset table
unset contour
# CSVs are read through tr so that the contour block (whitespace) and them share one separator.
csv(name) = "< tr , ' ' < ".dir."/rosenbrock_".name.".csv"

# Legend titles with the iteration counts of the summary.
summary = dir."/rosenbrock_summary.csv"
label(name) = system(sprintf("awk -F, '$1==\"%s\" {printf \"%%s iterations%%s\", $2, ($3==1 ? \"\" : \" (not reached)\")}' %s", name, summary))

set output outfile
set title "Rosenbrock f(x,y) = (1-x)^2 + 100(y-x^2)^2 from (-1.2, 1): iterations to |(x,y)-(1,1)| ≤ 1e-6"
set xlabel "x"
set ylabel "y"
set xrange [-1.6:1.6]
set yrange [-0.6:1.8]
set size ratio -1
set key bottom right box opaque
plot $contours using 1:2 with lines lc rgb "#bbbbbb" lw 1 notitle, \
     csv("sgd") using 2:3 skip 1 with lines lw 4 lc rgb "#2ca02c" title "SGD η=0.001: ".label("sgd"), \
     csv("adam") using 2:3 skip 1 with lines lw 3 lc rgb "#ff7f0e" title "Adam η=0.01: ".label("adam"), \
     csv("lbfgs") using 2:3 skip 1 with linespoints pt 6 ps 0.8 lw 2 lc rgb "#9467bd" title "L-BFGS: ".label("lbfgs"), \
     csv("scg") using 2:3 skip 1 with linespoints pt 7 ps 0.6 lw 2 lc rgb "#d62728" title "SCG (exact H·p): ".label("scg"), \
     "+" using (-1.2):(1) every ::0::0 with points pt 5 ps 1.5 lc rgb "black" title "start", \
     "+" using (1):(1) every ::0::0 with points pt 3 ps 2 lc rgb "black" title "minimum (1, 1)"

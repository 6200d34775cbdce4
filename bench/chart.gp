# gnuplot -e "datafile='…'; scalefile='…'; outfile='…'; term='pngcairo'" bench/chart.gp
# Left: median time per request per contender (bars).  Right: the scaling
# workload, batch wall time against batch size, with the ideal as dashed lines.
if (!exists("term")) term = "pngcairo"
if (term eq "pngcairo") {
  set terminal pngcairo size 1500,560 enhanced font "DejaVu Sans,10"
} else {
  set terminal png size 1500,560
}
set output outfile
set multiplot layout 1,2 columnsfirst
set datafile missing "-"

set title "per request against the fake Konnect: median of paired rounds (lower is better)"
set ylabel "µs per request (log scale)"
set logscale y
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set xtics nomirror rotate by -25 scale 0
plot datafile using 2:xtic(1) title "get, HTTP keep-alive" lc rgb "#1f77b4", \
     ''       using 3        title "get, HTTPS"            lc rgb "#ff7f0e", \
     ''       using 4        title "create/revoke/delete, per request" lc rgb "#2ca02c"

unset style
set style data linespoints
set title "one batch of N gets, 20 ms server latency (konnect.pats 5.4, HTTP/1.1)"
set xlabel "calls in the batch (log scale)"
set ylabel "batch wall time, ms (log scale; bars: min–max over rounds)"
set logscale xy
set xtics auto rotate by 0 scale 1
set key top left
set grid xtics ytics
if (exists("scalefile")) {
  plot scalefile using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb "#1f77b4" title "library default concurrency", \
       ''        using 1:5 with lines dt 2 lc rgb "#1f77b4" title "ideal, default concurrency", \
       ''        using 1:6:7:8 with yerrorlines lw 2 pt 5 lc rgb "#d62728" title "concurrency 64", \
       ''        using 1:9 with lines dt 2 lc rgb "#d62728" title "ideal, concurrency 64"
}
unset multiplot

# gnuplot -e "datafile='…'; outfile='…'; term='pngcairo'" bench/chart.gp
if (!exists("term")) term = "pngcairo"
if (term eq "pngcairo") {
  set terminal pngcairo size 1100,560 enhanced font "DejaVu Sans,10"
} else {
  set terminal png size 1100,560
}
set output outfile
set title "lua-konnect vs alternatives: median time per request against the fake Konnect (lower is better)"
set ylabel "µs per request (median, log scale)"
set logscale y
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left
set datafile missing "-"
set xtics nomirror rotate by -15 scale 0
plot datafile using 2:xtic(1) title "get, HTTP keep-alive" lc rgb "#1f77b4", \
     ''       using 3        title "get, HTTPS"            lc rgb "#ff7f0e", \
     ''       using 4        title "create/revoke/delete, per request" lc rgb "#2ca02c"

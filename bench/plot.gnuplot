# plot.gnuplot -- bench/run.sh's two plots, from the data files it makes out of the CSVs.
#
#   gnuplot -e "dir='bench/results'; sizes='64 4096 65536'; natives=3; servers=2" bench/plot.gnuplot
#
# dir/latency.dat: one line per mechanism: its label, then p50 for each size, then p99 for each
# size (microseconds; NaN where a mechanism has no figure). The last `natives` lines are the
# native Linux reference rows: they are drawn on a grey band, labelled as not winipc.
# dir/servers.dat: one block per server (blocks two blank lines apart), its first line the
# series title, then "clients lines_per_s private_bytes" (NaN where loadgen had no figure).
# Makes dir/latency.svg and dir/servers.svg; with term='pngcairo' PNGs instead (for a look).
if (!exists("term")) term = 'svg'
ext = (term eq 'svg') ? '.svg' : '.png'
nSizes = words(sizes)
set datafile missing NaN

# --- latency.svg: p50 (top) and p99 (bottom) round trip, one bar per size, log scale --------
set terminal term size 1200,860 font 'sans,11' noenhanced
set output dir.'/latency'.ext
stats dir.'/latency.dat' using 0 nooutput
rows = STATS_records
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set grid ytics mytics
set ylabel 'round trip, microseconds (log scale)'
set xtics rotate by -30 scale 0
set key outside right top vertical title 'message'
set xrange [-0.6:rows - 0.4]
set object 1 rect from rows - natives - 0.5, graph 0 to rows - 0.4, graph 1 \
    fillcolor rgb '#e4e4e4' fillstyle solid 1.0 noborder behind
set label 1 'native Linux reference, not winipc' at rows - natives - 0.4, graph 0.95 \
    left font 'sans,10'
set multiplot layout 2,1 title 'ipcbench: one ping-pong, every mechanism (Wine on Linux), ' \
    .'and the native Linux floor'
set title 'p50 round-trip latency'
plot for [k=1:nSizes] dir.'/latency.dat' using (column(1 + k)):xtic(1) \
    title word(sizes, k).' B'
set title 'p99 round-trip latency'
plot for [k=1:nSizes] dir.'/latency.dat' using (column(1 + nSizes + k)):xtic(1) \
    title word(sizes, k).' B'
unset multiplot
unset object 1
unset label 1

# --- servers.svg: lines/s and private bytes against clients, both servers, log x ---------
reset
set datafile missing NaN
set terminal term size 1200,520 font 'sans,11' noenhanced
set output dir.'/servers'.ext
set style data linespoints
set logscale x
set logscale y
set grid xtics ytics mytics
set xlabel 'clients (log scale)'
set multiplot layout 1,2 title 'loadgen: sockets_server and iocp_server under load (Wine on Linux)'
set title 'throughput'
set key bottom left
set ylabel 'lines answered per second (log scale)'
plot for [s=0:servers - 1] dir.'/servers.dat' index s using 1:2 title columnheader(1) \
    linewidth 2 pointtype 7 + 2 * s
set title 'server memory'
set key bottom right
set ylabel 'peak private bytes, MiB (log scale)'
plot for [s=0:servers - 1] dir.'/servers.dat' index s using 1:($3 / 1048576) title columnheader(1) \
    linewidth 2 pointtype 7 + 2 * s
unset multiplot

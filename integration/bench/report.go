package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// results are every figure of one run.
type results struct {
	machine  machine
	versions []string
	started  time.Time
	elapsed  time.Duration
	command  string

	// busyBefore is the machine's busy share in the second before each
	// measurement, while the bench itself was idle.
	busyBefore struct{ parse, sluice, avro, produce float64 }

	load   loadResult
	parse  parseResult
	sluice sluiceResult
	topic  topicCount
	// avro and avroTopic are the run with SLUICE_FORMAT=avro, when the
	// bench had a schema registry.
	avro      sluiceResult
	avroTopic topicCount
	produce   produceResult
}

type machine struct {
	cores    string
	memory   string
	cpuModel string
}

func describeMachine() machine {
	m := machine{cores: "unknown", memory: "unknown", cpuModel: "unknown"}
	if out, err := exec.Command("nproc").Output(); err == nil {
		m.cores = strings.TrimSpace(string(out))
	}
	if value := procField("/proc/meminfo", "MemTotal"); value != "" {
		if kib, err := strconv.ParseInt(strings.TrimSuffix(value, " kB"), 10, 64); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", float64(kib)/(1<<20))
		}
	}
	if value := procField("/proc/cpuinfo", "model name"); value != "" {
		m.cpuModel = value
	}
	return m
}

// procField returns the value of the first "name: value" line in a /proc
// file, or "".
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		key, value, ok := strings.Cut(scanner.Text(), ":")
		if ok && strings.TrimSpace(key) == name {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// collectVersions names the software that took part. A version that cannot
// be read is reported as unknown rather than failing the run.
func collectVersions(ctx context.Context, s *settings, mariadbVersion, classpath string) []string {
	versions := []string{"MariaDB " + orUnknown(mariadbVersion)}
	versions = append(versions, "Kafka "+orUnknown(kafkaVersion(classpath)))

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, s.sluiceBin, "--version").Output(); err == nil {
		versions = append(versions, strings.TrimSpace(string(out)))
	} else {
		versions = append(versions, "sluice unknown")
	}
	if out, err := exec.CommandContext(ctx, "java", "-version").CombinedOutput(); err == nil {
		first, _, _ := strings.Cut(string(out), "\n")
		versions = append(versions, "Java: "+strings.TrimSpace(first))
	}
	versions = append(versions, "Go "+runtime.Version())
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			switch dep.Path {
			case "github.com/go-mysql-org/go-mysql", "github.com/twmb/franz-go":
				versions = append(versions, dep.Path+" "+dep.Version)
			}
		}
	}
	return versions
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// printReport writes the table of figures and the notes under it.
func printReport(w io.Writer, s *settings, r *results) {
	l, p, sl := &r.load, &r.parse, &r.sluice
	batchLabel := fmt.Sprintf("%d-row", l.batchRows)

	fmt.Fprintf(w, "\nsluice benchmark, %s\n", r.started.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "machine: %s cores (nproc), %s memory, %s\n", r.machine.cores, r.machine.memory, r.machine.cpuModel)
	fmt.Fprintf(w, "versions: %s\n", strings.Join(r.versions, ", "))
	fmt.Fprintf(w, "command: %s\n\n", r.command)

	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(label string, values ...string) {
		fmt.Fprintf(tw, "%s\t%s\t\n", label, strings.Join(values, "\t"))
	}
	row("", "single-row", batchLabel, "total")
	row("transactions", count(l.singleRows), count(l.batches), count(l.singleRows+l.batches))
	row("rows", count(l.singleRows), count(l.batches*l.batchRows), count(l.rows()))
	row("binlog file MiB (all databases)", mib(l.singleBytes), mib(l.batchBytes), mib(l.singleBytes+l.batchBytes))
	row("MiB sent to a replica", mib(p.singleBytes), mib(p.batchBytes), mib(p.singleBytes+p.batchBytes))
	row("load: seconds", seconds(l.singleTime), seconds(l.batchTime), seconds(l.total()))
	row("load: rows/s", rate(l.singleRows, l.singleTime), rate(l.batches*l.batchRows, l.batchTime), rate(l.rows(), l.total()))
	row("go-mysql parse ceiling: seconds", seconds(p.singleTime), seconds(p.batchTime), seconds(p.totalTime()))
	row("go-mysql parse ceiling: rows/s", rate(p.singleRows, p.singleTime), rate(p.batchRows, p.batchTime), rate(p.totalRows(), p.totalTime()))
	kafka := fmt.Sprintf("%.0f", r.produce.recordsPerSecond)
	row("Kafka produce ceiling: records/s", kafka, kafka, kafka)
	lower := [3]float64{
		min(perSecond(p.singleRows, p.singleTime), r.produce.recordsPerSecond),
		min(perSecond(p.batchRows, p.batchTime), r.produce.recordsPerSecond),
		min(perSecond(p.totalRows(), p.totalTime()), r.produce.recordsPerSecond),
	}
	row("lower ceiling: rows/s", fmt.Sprintf("%.0f", lower[0]), fmt.Sprintf("%.0f", lower[1]), fmt.Sprintf("%.0f", lower[2]))
	row("sluice end to end: seconds", seconds(sl.singleTime), seconds(sl.batchTime), seconds(sl.totalTime()))
	sluiceRates := [3]float64{
		perSecond(sl.singleRows, sl.singleTime),
		perSecond(sl.batchRows, sl.batchTime),
		perSecond(sl.totalRows(), sl.totalTime()),
	}
	row("sluice end to end: rows/s", rate(sl.singleRows, sl.singleTime), rate(sl.batchRows, sl.batchTime), rate(sl.totalRows(), sl.totalTime()))
	row("sluice % of lower ceiling",
		percent(sluiceRates[0], lower[0]), percent(sluiceRates[1], lower[1]), percent(sluiceRates[2], lower[2]))
	if av := &r.avro; av.totalRows() > 0 {
		row("sluice Avro end to end: seconds", seconds(av.singleTime), seconds(av.batchTime), seconds(av.totalTime()))
		row("sluice Avro end to end: rows/s", rate(av.singleRows, av.singleTime), rate(av.batchRows, av.batchTime), rate(av.totalRows(), av.totalTime()))
		row("sluice Avro % of lower ceiling",
			percent(perSecond(av.singleRows, av.singleTime), lower[0]), percent(perSecond(av.batchRows, av.batchTime), lower[1]),
			percent(perSecond(av.totalRows(), av.totalTime()), lower[2]))
	}
	tw.Flush()

	fmt.Fprintln(w)
	fmt.Fprintf(w, "sluice: %s s from process start to its log line \"resuming from the saved position\" (included in the single-row column), peak RSS %.1f MiB (VmHWM), CPU %s s user+system, %d position commits seen; machine busy %s in the second before, %s while it ran\n",
		seconds(sl.startup), float64(sl.peakRSS)/(1<<20), seconds(sl.cpu), sl.commits, busy(r.busyBefore.sluice), busy(sl.machineBusy))
	fmt.Fprintf(w, "data topic: %d records read with read_committed (want %d), %d distinct keys, value %.1f bytes and key %.1f bytes on average\n",
		r.topic.records, l.rows(), r.topic.uniqueKeys, r.topic.averageValueBytes(), r.topic.averageKeyBytes())
	if av := &r.avro; av.totalRows() > 0 {
		fmt.Fprintf(w, "sluice Avro (schema registry %s): %s s to start, peak RSS %.1f MiB, CPU %s s user+system, %d position commits seen; machine busy %s in the second before, %s while it ran\n",
			s.registryURL, seconds(av.startup), float64(av.peakRSS)/(1<<20), seconds(av.cpu), av.commits, busy(r.busyBefore.avro), busy(av.machineBusy))
		fmt.Fprintf(w, "Avro data topic: %d records read with read_committed (want %d), %d distinct keys, value %.1f bytes and key %.1f bytes on average\n",
			r.avroTopic.records, l.rows(), r.avroTopic.uniqueKeys, r.avroTopic.averageValueBytes(), r.avroTopic.averageKeyBytes())
	}
	fmt.Fprintf(w, "go-mysql parse: machine busy %s in the second before, %s while it ran\n", busy(r.busyBefore.parse), busy(p.machineBusy))
	fmt.Fprintf(w, "Kafka produce: ProducerPerformance, %d records of %d bytes, 1 partition, transactions of 200 ms, properties %s; machine busy %s in the second before, %s while it ran (JVM start included)\n",
		l.rows(), r.produce.recordSize, strings.Join(r.produce.properties, " "), busy(r.busyBefore.produce), busy(r.produce.machineBusy))
	fmt.Fprintf(w, "  %s\n", r.produce.summary)
	fmt.Fprintf(w, "binlog: start %s, between phases %s, end %s\n", l.start, l.middle, l.end)
	fmt.Fprintf(w, "load: %d connections, relaxed flush settings during the load: %t\n", s.connections, s.relaxFlush)
	fmt.Fprintf(w, "whole run: %s\n", r.elapsed.Round(time.Second))
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// rate formats n/d. A duration of zero means that the position file showed
// both phase ends in one poll, so the split between phases is unknown.
func rate(n int, d time.Duration) string {
	if d <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f", perSecond(n, d))
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f", d.Seconds())
}

func mib(n int64) string {
	return fmt.Sprintf("%.1f", float64(n)/(1<<20))
}

func count(n int) string {
	return strconv.Itoa(n)
}

func percent(part, whole float64) string {
	if whole <= 0 || part <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f %%", 100*part/whole)
}

func busy(share float64) string {
	if share < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f %%", 100*share)
}

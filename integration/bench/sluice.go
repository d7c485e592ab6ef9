package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-cdc/sluice/offsets"
)

// pollInterval is how often the position file is read while sluice runs.
// It bounds the error of each phase's end time.
const pollInterval = 10 * time.Millisecond

// stopTimeout is how long sluice gets to exit after SIGTERM before it is
// killed.
const stopTimeout = 30 * time.Second

// sluiceResult is the end-to-end measurement of one sluice process.
type sluiceResult struct {
	phaseFigures
	// startup is from process start to sluice's log line that it resumes
	// from the saved position, or zero when that line is missing.
	startup     time.Duration
	peakRSS     int64 // bytes, VmHWM
	cpu         time.Duration
	machineBusy float64
	// commits is the number of position file changes seen. It is a lower
	// bound, because two commits can fall between two polls.
	commits int
}

// measureSluice starts bin/sluice at the load's start position and waits
// until the position file reaches the middle and then the end of the load.
func measureSluice(ctx context.Context, s *settings, l *loadResult, names benchNames, tmp string, extraEnv []string) (result sluiceResult, err error) {
	binary, err := filepath.Abs(s.sluiceBin)
	if err != nil {
		return result, err
	}
	if _, err := os.Stat(binary); err != nil {
		return result, fmt.Errorf("sluice binary: %w; build it with `make build`", err)
	}

	offsetsDir := filepath.Join(tmp, "offsets-"+names.stream)
	tracker := &offsets.FileTracker{Dir: offsetsDir}
	if err := tracker.Save(ctx, names.stream, l.start); err != nil {
		return result, fmt.Errorf("write the start position: %w", err)
	}

	logPath := filepath.Join(tmp, names.stream+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return result, err
	}
	defer logFile.Close()

	cmd := exec.Command(binary)
	cmd.Env = append(sluiceEnv(s, names, offsetsDir), extraEnv...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cpu := readMachineCPU()
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return result, fmt.Errorf("start %s: %w", binary, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	// From here on every return stops the process first.
	stopped := false
	defer func() {
		if !stopped {
			stopProcess(cmd, exited)
		}
	}()

	ctx, cancel := context.WithTimeout(ctx, s.sluiceTimeout)
	defer cancel()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()

	var (
		last      = l.start
		middleAt  time.Duration
		reachedAt time.Duration
	)
	for reachedAt == 0 {
		select {
		case <-ctx.Done():
			return result, fmt.Errorf("sluice committed up to %s but not %s after %s (%w); its log:\n%s",
				last, l.end, time.Since(began).Round(time.Second), ctx.Err(), tail(logPath))
		case <-exited:
			return result, fmt.Errorf("sluice exited early with %s; its log:\n%s", cmd.ProcessState, tail(logPath))
		case <-ticker.C:
		}
		p, err := tracker.Load(ctx, names.stream)
		if err != nil {
			return result, err
		}
		if p.Compare(last) > 0 {
			result.commits++
			last = p
		}
		// One reading of the clock per poll, so that a commit that passes
		// both boundaries gives the second phase a duration of exactly 0.
		now := time.Since(began)
		if middleAt == 0 && last.Compare(l.middle) >= 0 {
			middleAt = now
		}
		if middleAt != 0 && last.Compare(l.end) >= 0 {
			reachedAt = now
		}
	}
	result.machineBusy = readMachineCPU().busySince(cpu)

	result.peakRSS, err = peakRSS(cmd.Process.Pid)
	if err != nil {
		return result, err
	}
	stopped = true
	if err := stopProcess(cmd, exited); err != nil {
		return result, fmt.Errorf("%w; its log:\n%s", err, tail(logPath))
	}
	result.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()

	result.singleRows, result.batchRows = l.singleRows, l.batches*l.batchRows
	result.singleTime, result.batchTime = middleAt, reachedAt-middleAt
	result.startup = startupTime(logPath, began)
	return result, nil
}

// sluiceEnv returns the whole environment of the sluice process: nothing
// from the bench's own environment but PATH and HOME, so SLUICE_* variables
// that the Makefile exports for `make run` do not leak in.
func sluiceEnv(s *settings, names benchNames, offsetsDir string) []string {
	host, port, _ := strings.Cut(s.mysqlAddr, ":")
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"SLUICE_MYSQL_HOST=" + host,
		"SLUICE_MYSQL_PORT=" + port,
		"SLUICE_MYSQL_USER=" + s.replUser,
		"SLUICE_MYSQL_PASSWORD=" + s.replPassword,
		"SLUICE_SERVER_ID=" + strconv.FormatUint(uint64(uniqueServerID()), 10),
		"SLUICE_DATABASES=" + benchDatabase,
		"SLUICE_KAFKA_BROKERS=" + s.kafkaAddr,
		"SLUICE_TOPIC_PREFIX=" + names.prefix,
		"SLUICE_STREAM_ID=" + names.stream,
		"SLUICE_POSITIONS_TOPIC=" + names.positionsTopic,
		"SLUICE_OFFSETS_DIR=" + offsetsDir,
		"SLUICE_LOG_FORMAT=json",
	}
}

// stopProcess sends SIGTERM and waits for the exit, then kills the process
// if it has not exited within stopTimeout. It returns an error unless the
// process exited with status 0 after SIGTERM.
func stopProcess(cmd *exec.Cmd, exited <-chan struct{}) error {
	select {
	case <-exited:
		return fmt.Errorf("sluice had already exited with %s", cmd.ProcessState)
	default:
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("send SIGTERM to sluice: %w", err)
	}
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("sluice did not exit within %s of SIGTERM and was killed", stopTimeout)
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		return fmt.Errorf("sluice exited with %s after SIGTERM, want status 0", cmd.ProcessState)
	}
	return nil
}

// peakRSS reads VmHWM, the peak resident set size, of a process.
func peakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read peak RSS: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		value, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid VmHWM line %q: %w", line, err)
		}
		return kib * 1024, nil
	}
	return 0, fmt.Errorf("no VmHWM line in /proc/%d/status", pid)
}

// startupTime returns the time from began to sluice's log line that it
// resumes from the saved position, or zero when the log lacks that line.
func startupTime(logPath string, began time.Time) time.Duration {
	f, err := os.Open(logPath)
	if err != nil {
		return 0
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for scanner.Scan() {
		var line struct {
			Time    time.Time `json:"time"`
			Message string    `json:"message"`
		}
		if json.Unmarshal(scanner.Bytes(), &line) != nil {
			continue
		}
		if strings.HasPrefix(line.Message, "resuming from the saved position") {
			return line.Time.Sub(began)
		}
	}
	return 0
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(log %s unreadable: %v)", path, err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	lines = lines[max(0, len(lines)-20):]
	return string(bytes.Join(lines, []byte("\n")))
}

// machineCPU is a sample of the "cpu" line of /proc/stat, in clock ticks.
type machineCPU struct {
	busy, total uint64
	err         error
}

func readMachineCPU() machineCPU {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{err: err}
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	fields := strings.Fields(string(line))
	if len(fields) < 5 || fields[0] != "cpu" {
		return machineCPU{err: errors.New("unexpected first line in /proc/stat")}
	}
	// The columns are user, nice, system, idle, iowait, irq, softirq and
	// steal. Guest time, if listed after them, is already part of user time.
	var sample machineCPU
	for i, field := range fields[1:min(len(fields), 9)] {
		ticks, err := strconv.ParseUint(field, 10, 64)
		if err != nil {
			return machineCPU{err: err}
		}
		sample.total += ticks
		if i != 3 && i != 4 {
			sample.busy += ticks
		}
	}
	return sample
}

// sampleBusy returns the share of all cores' time that was not idle during
// the next period, or -1 when ctx ends first or a sample fails. Taken just
// before a measurement, it shows load from other processes on the machine.
func sampleBusy(ctx context.Context, period time.Duration) float64 {
	first := readMachineCPU()
	select {
	case <-ctx.Done():
		return -1
	case <-time.After(period):
	}
	return readMachineCPU().busySince(first)
}

// busySince returns the share of all cores' time, from 0 to 1, that was
// not idle between earlier and m, or -1 when a sample failed.
func (m machineCPU) busySince(earlier machineCPU) float64 {
	if m.err != nil || earlier.err != nil || m.total <= earlier.total {
		return -1
	}
	return float64(m.busy-earlier.busy) / float64(m.total-earlier.total)
}

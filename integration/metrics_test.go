//go:build integration

package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a 127.0.0.1 address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// httpGet returns the status and body of http://addr/path, or status 0
// when the connection fails.
func httpGet(addr, path string) (int, string) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// scrape reads /metrics at addr into a map from each series, as the text
// format writes it (name{labels}), to its value.
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	code, body := httpGet(addr, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics at %s = %d", addr, code)
	}
	series := map[string]float64{}
	lines := bufio.NewScanner(strings.NewReader(body))
	for lines.Scan() {
		line := lines.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		value, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		series[line[:i]] = value
	}
	return series
}

// TestMetricsOfAStream streams a few transactions with the metrics served
// and checks the served values against the records in Kafka and the times
// around the transactions.
func TestMetricsOfAStream(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE m (id INT PRIMARY KEY, v VARCHAR(10))")
	addr := freeAddr(t)
	p := f.startReady("SLUICE_METRICS_ADDR=" + addr)

	f.eventually(30*time.Second, "/healthz answers 200", func() bool {
		code, body := httpGet(addr, "/healthz")
		return code == http.StatusOK && body == "streaming\n"
	})

	// The server logs times to the second.
	before := time.Now().Truncate(time.Second)
	execSQL(t, f.conn,
		"INSERT INTO m VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e')",
		"INSERT INTO m VALUES (6,'f')",
		"UPDATE m SET v = 'z' WHERE id = 6",
		"DELETE FROM m WHERE id = 1")
	// 6 creates, 1 update, 1 delete and its tombstone.
	const want = 9
	f.eventually(60*time.Second, "every record is in Kafka", func() bool {
		return len(consumeAll(t, f.topic("m"))) >= want
	})
	if got := len(consumeAll(t, f.topic("m"))); got != want {
		t.Fatalf("topic %s has %d records, want %d", f.topic("m"), got, want)
	}

	stream := `stream="` + f.stream + `"`
	records := fmt.Sprintf(`sluice_records_committed_total{%s,topic="%s"}`, stream, f.topic("m"))
	var m map[string]float64
	f.eventually(30*time.Second, "the metrics count every record", func() bool {
		m = scrape(t, addr)
		return m[records] == want
	})
	after := time.Now()
	// Transactions of other databases on the same server add a commit of
	// the position alone every idle commit interval (10 s).
	idleCommits := float64(int(time.Since(before).Seconds())/10 + 1)
	if got := m[`sluice_kafka_commits_total{`+stream+`}`]; got < 1 || got > 4+idleCommits {
		t.Errorf("Kafka commits = %v, want 1 to %v for 4 source transactions", got, 4+idleCommits)
	}
	if got := m[`sluice_streaming{`+stream+`}`]; got != 1 {
		t.Errorf("sluice_streaming = %v, want 1", got)
	}
	// Those transactions also leave a position uncommitted for up to the
	// idle commit interval.
	f.eventually(30*time.Second, "nothing is left uncommitted", func() bool {
		return scrape(t, addr)[`sluice_uncommitted_seconds{`+stream+`}`] == 0
	})
	if got := m[`sluice_binlog_reconnects_total{`+stream+`}`]; got != 0 {
		t.Errorf("reconnects = %v, want 0", got)
	}
	source := m[`sluice_committed_source_timestamp_seconds{`+stream+`}`]
	if source < float64(before.Unix()) || source > float64(after.Unix()) {
		t.Errorf("committed source time = %v, want between %d and %d", source, before.Unix(), after.Unix())
	}
	if lag := m[`sluice_commit_lag_seconds{`+stream+`}`]; lag < 0 || lag > after.Sub(before).Seconds()+1 {
		t.Errorf("commit lag = %v s, want at most %.1f s", lag, after.Sub(before).Seconds()+1)
	}
	if got := m[`sluice_records_committed_total{`+stream+`,topic="__sluice_positions"}`]; got != 0 {
		t.Errorf("the positions topic is counted: %v", got)
	}

	// A lost binlog connection shows as a reconnect, and streaming resumes.
	if killBinlogDumps(t, f) == 0 {
		t.Fatal("found no binlog dump connection of sluice")
	}
	f.eventually(30*time.Second, "the reconnect is counted and streaming resumes", func() bool {
		m = scrape(t, addr)
		return m[`sluice_binlog_reconnects_total{`+stream+`}`] == 1 && m[`sluice_streaming{`+stream+`}`] == 1
	})

	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Fatalf("sluice exited with status %d after SIGTERM, want 0", status)
	}
	if code, _ := httpGet(addr, "/healthz"); code != 0 {
		t.Errorf("/healthz answered %d after sluice exited", code)
	}
}

// TestMetricsAddressTaken starts sluice on a metrics address that another
// program listens on: the start stops with the variable, the address and
// the fix, before sluice connects anywhere.
func TestMetricsAddressTaken(t *testing.T) {
	f := newFixture(t)
	occupied, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer occupied.Close()
	out := expectStartFailure(t, f, 2, []string{"SLUICE_METRICS_ADDR", occupied.Addr().String(), "address already in use"},
		"SLUICE_METRICS_ADDR="+occupied.Addr().String())
	if strings.Contains(out, "sluice starting") {
		t.Errorf("sluice went on starting:\n%s", out)
	}
}

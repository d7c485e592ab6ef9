//go:build integration

package integration

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cuttingProxy forwards TCP connections from 127.0.0.1 to a server and can
// cut every open connection at once, as a network failure would.
type cuttingProxy struct {
	listener net.Listener
	mu       sync.Mutex
	conns    []net.Conn
}

// startProxy starts a proxy to target on a free port of 127.0.0.1.
func startProxy(t *testing.T, target string) *cuttingProxy {
	t.Helper()
	return startProxyAt(t, "127.0.0.1:0", target)
}

// startProxyAt starts a proxy to target that listens on addr.
func startProxyAt(t *testing.T, addr, target string) *cuttingProxy {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &cuttingProxy{listener: l}
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				client.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, client, server)
			p.mu.Unlock()
			go func() { io.Copy(server, client); server.Close() }()
			go func() { io.Copy(client, server); client.Close() }()
		}
	}()
	t.Cleanup(func() { l.Close(); p.cut() })
	return p
}

func (p *cuttingProxy) port() string {
	return fmt.Sprint(p.listener.Addr().(*net.TCPAddr).Port)
}

// cut closes every connection open through the proxy.
func (p *cuttingProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestConnectionCutMidTransaction cuts sluice's connections to the server
// twice while it produces one large transaction, and checks that sluice
// recovers by itself and that every row arrives once.
func TestConnectionCutMidTransaction(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE rc (id INT PRIMARY KEY, v VARCHAR(600))")
	proxy := startProxy(t, net.JoinHostPort(mysqlHost, mysqlPort))
	p := f.startReady("SLUICE_MYSQL_PORT=" + proxy.port())

	admin, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	adm := kadm.NewClient(admin)
	highWatermark := func() int64 {
		ends, err := adm.ListEndOffsets(context.Background(), f.topic("rc"))
		if err != nil {
			return -1
		}
		end, ok := ends.Lookup(f.topic("rc"), 0)
		if !ok || end.Err != nil {
			return -1
		}
		return end.Offset
	}

	const rows = 100000
	execSQL(t, f.conn, fmt.Sprintf("INSERT INTO %s.rc SELECT seq, REPEAT('v', 500) FROM seq_1_to_%d", f.db, rows))

	// Each cut comes once sluice has noticed the one before, reconnected,
	// and produced part of the transaction again.
	mark := int64(0)
	for cut := 1; cut <= 2; cut++ {
		f.eventually(60*time.Second, fmt.Sprintf("sluice notices cut %d", cut-1), func() bool {
			return strings.Count(p.output(), "binlog connection lost") >= cut-1
		})
		if cut > 1 {
			mark = highWatermark()
		}
		f.eventually(60*time.Second, fmt.Sprintf("sluice produces part of the transaction before cut %d", cut), func() bool {
			return highWatermark() > mark+1000
		})
		proxy.cut()
		mark = highWatermark()
		t.Logf("cut %d at high watermark %d", cut, mark)
	}

	var got []record
	f.eventually(120*time.Second, "the transaction is committed", func() bool {
		got = consumeAll(t, f.topic("rc"))
		return len(got) >= rows
	})
	checkIDsOnce(t, got, rows)

	if n := strings.Count(p.output(), "binlog connection lost"); n < 2 {
		t.Errorf("sluice logged %d lost connections, want at least 2", n)
	}
	select {
	case <-p.done:
		t.Fatalf("sluice exited with status %d instead of recovering:\n%s", p.exit, p.output())
	default:
	}
	p.signal(syscall.SIGTERM)
	p.wait(t, 30*time.Second)
}

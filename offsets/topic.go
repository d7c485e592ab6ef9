package offsets

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicConfigs are the settings of the positions topic: compacted, so it
// keeps the newest position of each stream.
var TopicConfigs = map[string]*string{
	"cleanup.policy": ptr("compact"),
	"segment.ms":     ptr("3600000"),
}

func ptr(s string) *string { return &s }

// PositionRecord returns the record that stores p as the position of stream
// in the positions topic. Produced in the same Kafka transaction as the
// changes up to p, it commits or aborts together with them.
func PositionRecord(topic, stream string, p Position) (*kgo.Record, error) {
	value, err := p.Marshal()
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: topic, Partition: 0, Key: []byte(stream), Value: value}, nil
}

// searchWindow is how many offsets back from the end of the positions topic
// the first search for a stream's newest position reads.
const searchWindow = 5000

// LatestInTopic returns the newest position of stream committed to the
// positions topic, or a zero Position when there is none. Positions of
// aborted transactions, and of transactions still open, are not seen. Call
// it after the stream's transactional producer has initialized, so that no
// transaction of an older producer of the stream is still open.
//
// Many streams share the topic, so another stream's open transaction may
// sit before this stream's newest committed position. A read_committed
// consumer stops at such a transaction, so the topic is read uncommitted,
// up to its high watermark, and each transaction's records count once its
// commit marker is read.
func LatestInTopic(ctx context.Context, client *kgo.Client, brokers []string, topic, stream string) (Position, error) {
	admin := kadm.NewClient(client)
	ends, err := admin.ListEndOffsets(ctx, topic)
	if err != nil {
		return Position{}, fmt.Errorf("list end offsets of positions topic %q: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok || errors.Is(end.Err, kerr.UnknownTopicOrPartition) {
		return Position{}, nil
	}
	if end.Err != nil {
		return Position{}, fmt.Errorf("list end offsets of positions topic %q: %w", topic, end.Err)
	}

	start := max(end.Offset-searchWindow, 0)
	for {
		p, found, err := scanPositions(ctx, brokers, topic, stream, start, end.Offset)
		if err != nil || found || start == 0 {
			return p, err
		}
		start = 0
	}
}

// scanPositions reads partition 0 of topic from offset start up to end and
// returns the last committed position stored for stream. A tombstone,
// written when the stream's position was deleted, counts as no position.
func scanPositions(ctx context.Context, brokers []string, topic, stream string, start, end int64) (Position, bool, error) {
	var (
		latest Position
		found  bool
	)
	err := scan(ctx, brokers, topic, start, end, func(r *kgo.Record) error {
		if string(r.Key) != stream {
			return nil
		}
		found = true
		if r.Value == nil {
			latest = Position{}
			return nil
		}
		p, err := ParsePosition(r.Value)
		if err != nil {
			return fmt.Errorf("positions topic %q offset %d: %w", topic, r.Offset, err)
		}
		latest = p
		return nil
	})
	if err != nil {
		return Position{}, false, err
	}
	return latest, found, nil
}

// newestValues reads partition 0 of topic up to end and returns, for each
// stream, the value of its newest committed record: a position, or nil for
// a tombstone.
func newestValues(ctx context.Context, brokers []string, topic string, end int64) (map[string][]byte, error) {
	newest := map[string][]byte{}
	err := scan(ctx, brokers, topic, 0, end, func(r *kgo.Record) error {
		newest[string(r.Key)] = r.Value
		return nil
	})
	return newest, err
}

// quietPolls is how many empty polls of a second each end a scan before
// it reaches its end offset.
const quietPolls = 10

// scan calls each, in offset order, for every committed record of
// partition 0 of topic from offset start up to end, the high watermark.
// It reads uncommitted records and the transaction markers, and holds a
// transaction's records back until its commit marker: an abort drops them,
// and a transaction without a marker before end is still open and does
// not count.
func scan(ctx context.Context, brokers []string, topic string, start, end int64, each func(*kgo.Record) error) error {
	if start >= end {
		return nil
	}
	reader, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.FetchIsolationLevel(kgo.ReadUncommitted()),
		kgo.KeepControlRecords(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(start)}}),
	)
	if err != nil {
		return err
	}
	defer reader.Close()

	// pending holds the records of each open transaction, by producer id.
	pending := map[int64][]*kgo.Record{}
	var committed []*kgo.Record
	next := start
	quiet := 0
	for next < end {
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		fetches := reader.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return fmt.Errorf("read positions topic %q up to offset %d: %w", topic, end, ctx.Err())
		}
		if err := fetchError(fetches); err != nil {
			return fmt.Errorf("read positions topic %q: %w", topic, err)
		}
		// Compaction may leave no record at the last offsets before end,
		// so a long silence also means the end.
		if fetches.NumRecords() == 0 {
			if quiet++; quiet >= quietPolls {
				break
			}
			continue
		}
		quiet = 0
		fetches.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if r.Offset >= end {
				return
			}
			switch {
			case r.Attrs.IsControl():
				if commitMarker(r.Key) {
					committed = append(committed, pending[r.ProducerID]...)
				}
				delete(pending, r.ProducerID)
			case r.Attrs.IsTransactional():
				pending[r.ProducerID] = append(pending[r.ProducerID], r)
			default:
				committed = append(committed, r)
			}
		})
	}

	// A transaction commits as a whole, so its records may come after
	// records of later transactions; offset order is the order written.
	sort.Slice(committed, func(i, j int) bool { return committed[i].Offset < committed[j].Offset })
	for _, r := range committed {
		if err := each(r); err != nil {
			return err
		}
	}
	return nil
}

// commitMarker reports whether the key of a control record marks a
// commit: a 2-byte version, then a 2-byte type that is 0 for an abort and
// 1 for a commit.
func commitMarker(key []byte) bool {
	return len(key) >= 4 && binary.BigEndian.Uint16(key[2:4]) == 1
}

func isTopicExists(err error) bool {
	return errors.Is(err, kerr.TopicAlreadyExists)
}

func fetchError(fetches kgo.Fetches) error {
	var errs []error
	fetches.EachError(func(_ string, _ int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

package offsets

import (
	"context"
	"errors"
	"fmt"
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
// positions topic, or a zero Position when there is none. It reads with
// read_committed isolation, so positions of aborted transactions are not
// seen. Call it after the stream's transactional producer has initialized,
// so that no transaction of an older producer is still open.
func LatestInTopic(ctx context.Context, client *kgo.Client, brokers []string, topic, stream string) (Position, error) {
	admin := kadm.NewClient(client)
	ends, err := admin.ListCommittedOffsets(ctx, topic)
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
// returns the last position stored for stream. A tombstone, written when
// the stream's position was deleted, counts as no position.
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

// scanAll reads partition 0 of topic up to end and reports, for each
// stream, whether its newest record is a position rather than a tombstone.
func scanAll(ctx context.Context, brokers []string, topic string, end int64) (map[string]bool, error) {
	live := map[string]bool{}
	err := scan(ctx, brokers, topic, 0, end, func(r *kgo.Record) error {
		live[string(r.Key)] = r.Value != nil
		return nil
	})
	return live, err
}

// scan calls each for every committed record of partition 0 of topic from
// offset start up to end.
func scan(ctx context.Context, brokers []string, topic string, start, end int64, each func(*kgo.Record) error) error {
	if start >= end {
		return nil
	}
	reader, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(start)}}),
	)
	if err != nil {
		return err
	}
	defer reader.Close()

	// sluice writes the topic only in transactions, so the offset before
	// end holds a commit marker, which is never returned as a record. Other
	// markers may come before it too: a quiet poll also means the end.
	next := start
	for next < end-1 {
		pollCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		fetches := reader.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fetches.NumRecords() == 0 {
			if err := fetchError(fetches); err != nil {
				return fmt.Errorf("read positions topic %q: %w", topic, err)
			}
			break
		}
		var eachErr error
		fetches.EachRecord(func(r *kgo.Record) {
			next = r.Offset + 1
			if r.Offset >= end || eachErr != nil {
				return
			}
			eachErr = each(r)
		})
		if eachErr != nil {
			return eachErr
		}
	}
	return nil
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

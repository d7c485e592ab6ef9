package offsets

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaSettings are the settings of the Kafka topic tracker. It shares its
// variables with the worker, which writes each position into the positions
// topic inside the Kafka transaction of the data it covers.
type KafkaSettings struct {
	Brokers []string `envconfig:"SLUICE_KAFKA_BROKERS" default:"127.0.0.1:9092" desc:"comma-separated Kafka bootstrap brokers, host:port"`
	Topic   string   `envconfig:"SLUICE_POSITIONS_TOPIC" default:"__sluice_positions" desc:"compacted topic that gets each stream's position inside every Kafka transaction"`
}

func init() {
	Register("kafka", func(_ context.Context, s *KafkaSettings) (Tracker, error) {
		return NewKafkaTracker(s.Brokers, s.Topic)
	})
}

// KafkaTracker reads and writes positions in the compacted positions
// topic. The worker does not save through it: with SLUICE_OFFSETS_TYPE=kafka
// the position record inside each Kafka transaction is the only copy. The
// operator commands use it to show, set and delete positions.
type KafkaTracker struct {
	client  *kgo.Client
	brokers []string
	topic   string
}

// NewKafkaTracker returns a tracker on topic in the cluster at brokers.
func NewKafkaTracker(brokers []string, topic string) (*KafkaTracker, error) {
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("Kafka client for the positions topic: %w", err)
	}
	return &KafkaTracker{client: client, brokers: brokers, topic: topic}, nil
}

// Load returns the newest committed position of stream in the topic.
func (t *KafkaTracker) Load(ctx context.Context, stream string) (Position, error) {
	if err := checkStreamID(stream); err != nil {
		return Position{}, err
	}
	return LatestInTopic(ctx, t.client, t.brokers, t.topic, stream)
}

// Save writes p as the position of stream in a Kafka transaction of its
// own, under a transactional id that no worker uses, so that a running
// worker is not fenced.
func (t *KafkaTracker) Save(ctx context.Context, stream string, p Position) error {
	if err := checkStreamID(stream); err != nil {
		return err
	}
	if p.IsZero() || p.Pos == 0 {
		return fmt.Errorf("%w: cannot save %s as the position of stream %q", ErrInvalidPosition, p, stream)
	}
	record, err := PositionRecord(t.topic, stream, p)
	if err != nil {
		return err
	}
	return t.produceCommitted(ctx, stream, record)
}

// Delete writes a tombstone for stream, so that Load finds no position.
func (t *KafkaTracker) Delete(ctx context.Context, stream string) error {
	if err := checkStreamID(stream); err != nil {
		return err
	}
	return t.produceCommitted(ctx, stream, &kgo.Record{Topic: t.topic, Partition: 0, Key: []byte(stream)})
}

func (t *KafkaTracker) produceCommitted(ctx context.Context, stream string, record *kgo.Record) error {
	if err := t.ensureTopic(ctx); err != nil {
		return err
	}
	producer, err := kgo.NewClient(
		kgo.SeedBrokers(t.brokers...),
		kgo.TransactionalID("sluice-offsets-command-"+stream),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	if err != nil {
		return err
	}
	defer producer.Close()
	if err := producer.BeginTransaction(); err != nil {
		return err
	}
	produced, err := producer.ProduceSync(ctx, record).First()
	if err != nil {
		_ = producer.EndTransaction(ctx, kgo.TryAbort)
		return fmt.Errorf("write to positions topic %q: %w", t.topic, err)
	}
	if err := producer.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("commit to positions topic %q: %w", t.topic, err)
	}
	return t.awaitStable(ctx, produced.Offset)
}

// awaitStable waits until the topic's last stable offset passes offset. A
// commit returns before the broker writes its commit marker, and until
// then reads skip the record as part of an open transaction.
func (t *KafkaTracker) awaitStable(ctx context.Context, offset int64) error {
	for {
		if end, err := t.lastStableOffset(ctx); err == nil && end > offset {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("positions topic %q: timed out waiting for the commit marker after offset %d (%w); "+
				"check the position with sluice offsets show", t.topic, offset, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (t *KafkaTracker) ensureTopic(ctx context.Context) error {
	admin := kadm.NewClient(t.client)
	resp, err := admin.CreateTopic(ctx, 1, -1, TopicConfigs, t.topic)
	if err != nil && resp.Err == nil {
		return fmt.Errorf("create positions topic %q: %w", t.topic, err)
	}
	if resp.Err != nil && !isTopicExists(resp.Err) {
		return fmt.Errorf("create positions topic %q: %w", t.topic, resp.Err)
	}
	return nil
}

// List returns the streams whose newest record in the topic is a position.
func (t *KafkaTracker) List(ctx context.Context) ([]string, error) {
	newest, err := t.newestValues(ctx)
	if err != nil {
		return nil, err
	}
	var streams []string
	for stream, value := range newest {
		if value != nil {
			streams = append(streams, stream)
		}
	}
	sort.Strings(streams)
	return streams, nil
}

// LoadAll returns the newest committed position of every stream in the
// topic, from one read of the topic.
func (t *KafkaTracker) LoadAll(ctx context.Context) (map[string]Position, error) {
	newest, err := t.newestValues(ctx)
	if err != nil {
		return nil, err
	}
	positions := make(map[string]Position, len(newest))
	for stream, value := range newest {
		if value == nil {
			continue
		}
		p, err := ParsePosition(value)
		if err != nil {
			return nil, fmt.Errorf("positions topic %q, stream %q: %w", t.topic, stream, err)
		}
		positions[stream] = p
	}
	return positions, nil
}

// newestValues reads the topic up to its last stable offset and returns
// the value of each stream's newest committed record.
func (t *KafkaTracker) newestValues(ctx context.Context) (map[string][]byte, error) {
	end, err := t.lastStableOffset(ctx)
	if err != nil {
		return nil, err
	}
	return newestValues(ctx, t.brokers, t.topic, end)
}

// lastStableOffset returns the offset of the topic's partition 0 that
// read_committed consumers read up to, or 0 when the broker reports none,
// as for a topic that does not exist.
func (t *KafkaTracker) lastStableOffset(ctx context.Context) (int64, error) {
	ends, err := kadm.NewClient(t.client).ListCommittedOffsets(ctx, t.topic)
	if err != nil {
		return 0, fmt.Errorf("list end offsets of positions topic %q: %w", t.topic, err)
	}
	end, ok := ends.Lookup(t.topic, 0)
	if !ok || end.Err != nil {
		return 0, nil
	}
	return end.Offset, nil
}

// Check verifies that the cluster responds.
func (t *KafkaTracker) Check(ctx context.Context) error {
	if err := t.client.Ping(ctx); err != nil {
		return fmt.Errorf("Kafka at %v: %w", t.brokers, err)
	}
	return nil
}

// Close closes the tracker's Kafka client.
func (t *KafkaTracker) Close() error {
	t.client.Close()
	return nil
}

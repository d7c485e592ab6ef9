//go:build integration

package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/offsets/trackertest"
)

// TestKafkaTrackerConformance runs the tracker checks, LoadAll among them,
// against a positions topic that only this test uses, opened as
// SLUICE_OFFSETS_TYPE=kafka opens it.
func TestKafkaTrackerConformance(t *testing.T) {
	topic := fmt.Sprintf("it.kafka-tracker.%d.positions", rand.IntN(1_000_000))
	t.Cleanup(func() { deleteTopic(t, topic) })
	t.Setenv("SLUICE_KAFKA_BROKERS", kafkaAddr)
	t.Setenv("SLUICE_POSITIONS_TOPIC", topic)

	trackertest.Run(t, "kafka-", func(t *testing.T) offsets.Tracker {
		tracker, err := offsets.Open(context.Background(), "kafka")
		if err != nil {
			t.Fatalf("open kafka tracker: %v", err)
		}
		return tracker
	})
}

// deleteTopic deletes topic, and reports a failure to do so without
// failing the test.
func deleteTopic(t *testing.T, topic string) {
	client, err := kgo.NewClient(kgo.SeedBrokers(kafkaAddr))
	if err != nil {
		t.Logf("delete topic %s: %v", topic, err)
		return
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := kadm.NewClient(client).DeleteTopic(ctx, topic); err != nil {
		t.Logf("delete topic %s: %v", topic, err)
	}
}

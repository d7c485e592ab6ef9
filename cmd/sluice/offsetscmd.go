package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/source"
)

const offsetsUsage = `Usage:
  sluice offsets list                          streams with a saved position
  sluice offsets show [STREAM]                 the saved position of STREAM (default: SLUICE_STREAM_ID or SLUICE_TOPIC_PREFIX)
  sluice offsets set STREAM FILE:POS [GTIDS]   save a position, for example mysql-bin.000042:4
  sluice offsets delete STREAM                 delete the position: the next start begins at the server's current position

The tracker is the one SLUICE_OFFSETS_TYPE names, with its variables (sluice --help).
set first checks the position on the source server that SLUICE_MYSQL_* name: the
binlog file must exist and the offset must be where a transaction starts.
set and delete also write the positions topic, so that the next start does not
resume from an older or newer position found there, and they refuse to run while
a worker holds the stream. The kafka tracker has no hold: stop the worker first.
`

// offsetsCommand runs "sluice offsets ..." and returns the exit status.
func offsetsCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, offsetsUsage)
		if len(args) == 0 {
			return exitConfig
		}
		return exitOK
	}
	var settings struct {
		Type        string `envconfig:"SLUICE_OFFSETS_TYPE" default:"file"`
		StreamID    string `envconfig:"SLUICE_STREAM_ID"`
		TopicPrefix string `envconfig:"SLUICE_TOPIC_PREFIX" default:"sluice"`
		SourceSettings
		offsets.KafkaSettings
	}
	if err := envconfig.Process("", &settings); err != nil {
		fmt.Fprintf(stderr, "sluice offsets: %v\n", err)
		return exitConfig
	}
	for _, u := range unknownVariables(os.Environ()) {
		fmt.Fprintf(stderr, "sluice offsets: warning: %s\n", u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tracker, err := offsets.Open(ctx, settings.Type)
	if err != nil {
		fmt.Fprintf(stderr, "sluice offsets: %v\n", err)
		return exitConfig
	}
	defer tracker.Close()

	cmd := offsetsCmd{
		tracker:   tracker,
		kafka:     settings.KafkaSettings,
		kafkaOnly: settings.Type == "kafka",
		source: source.Config{
			Host:           settings.MySQLHost,
			Port:           settings.MySQLPort,
			User:           settings.MySQLUser,
			Password:       settings.MySQLPassword,
			ConnectTimeout: 10 * time.Second,
		},
		stdout: stdout,
	}
	switch {
	case args[0] == "list" && len(args) == 1:
		err = cmd.list(ctx)
	case args[0] == "show" && len(args) <= 2:
		stream := settings.StreamID
		if stream == "" {
			stream = settings.TopicPrefix
		}
		if len(args) == 2 {
			stream = args[1]
		}
		err = cmd.show(ctx, stream)
	case args[0] == "set" && (len(args) == 3 || len(args) == 4):
		var p offsets.Position
		if p, err = parsePositionArg(args[2:]); err == nil {
			err = cmd.set(ctx, args[1], p)
		} else {
			fmt.Fprintf(stderr, "sluice offsets set: %v\n", err)
			return exitConfig
		}
	case args[0] == "delete" && len(args) == 2:
		err = cmd.delete(ctx, args[1])
	default:
		fmt.Fprintf(stderr, "sluice offsets: invalid arguments %q\n\n%s", strings.Join(args, " "), offsetsUsage)
		return exitConfig
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice offsets %s: %v\n", args[0], err)
		return exitFailed
	}
	return exitOK
}

type offsetsCmd struct {
	tracker offsets.Tracker
	kafka   offsets.KafkaSettings
	// kafkaOnly is true when the tracker is the positions topic itself.
	kafkaOnly bool
	// source is the server whose binlog a new position must be in.
	source source.Config
	stdout io.Writer
}

func (c *offsetsCmd) list(ctx context.Context) error {
	if bulk, ok := c.tracker.(offsets.BulkLoader); ok {
		positions, err := bulk.LoadAll(ctx)
		if err != nil {
			return err
		}
		for _, stream := range slices.Sorted(maps.Keys(positions)) {
			fmt.Fprintf(c.stdout, "%s\t%s\n", stream, positions[stream])
		}
		return nil
	}
	streams, err := c.tracker.List(ctx)
	if err != nil {
		return err
	}
	for _, stream := range streams {
		p, err := c.tracker.Load(ctx, stream)
		if err != nil {
			return fmt.Errorf("stream %q: %w", stream, err)
		}
		fmt.Fprintf(c.stdout, "%s\t%s\n", stream, p)
	}
	return nil
}

func (c *offsetsCmd) show(ctx context.Context, stream string) error {
	p, err := c.tracker.Load(ctx, stream)
	if err != nil {
		return err
	}
	if p.IsZero() {
		return fmt.Errorf("stream %q has no saved position", stream)
	}
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s\n", data)
	return nil
}

func (c *offsetsCmd) set(ctx context.Context, stream string, p offsets.Position) error {
	// A position that the source cannot read from would stop the next
	// start, with the server's less helpful error.
	if err := source.CheckPosition(ctx, &c.source, p); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	release, err := c.holdStream(ctx, stream)
	if err != nil {
		return err
	}
	defer release()
	p.CapturedAt = time.Now().UTC()
	if err := c.tracker.Save(ctx, stream, p); err != nil {
		return err
	}
	if !c.kafkaOnly {
		if err := c.positionsTopic(ctx, func(t *offsets.KafkaTracker) error { return t.Save(ctx, stream, p) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stdout, "stream %s: position set to %s\n", stream, p)
	return nil
}

func (c *offsetsCmd) delete(ctx context.Context, stream string) error {
	release, err := c.holdStream(ctx, stream)
	if err != nil {
		return err
	}
	defer release()
	saved, err := c.tracker.Load(ctx, stream)
	if err != nil {
		return err
	}
	if err := c.tracker.Delete(ctx, stream); err != nil {
		return err
	}
	if saved.IsZero() {
		fmt.Fprintf(c.stdout, "stream %s had no saved position in the tracker\n", stream)
	}
	if !c.kafkaOnly {
		if err := c.positionsTopic(ctx, func(t *offsets.KafkaTracker) error { return t.Delete(ctx, stream) }); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stdout, "stream %s: position deleted\n", stream)
	return nil
}

// positionsTopic runs change on the positions topic.
func (c *offsetsCmd) positionsTopic(ctx context.Context, change func(*offsets.KafkaTracker) error) error {
	topic, err := offsets.NewKafkaTracker(c.kafka.Brokers, c.kafka.Topic)
	if err != nil {
		return err
	}
	defer topic.Close()
	if err := change(topic); err != nil {
		return fmt.Errorf("the tracker is changed, but the positions topic %q is not: %w; "+
			"run the command again once Kafka at %v is reachable", c.kafka.Topic, err, c.kafka.Brokers)
	}
	return nil
}

// holdStream makes sure no worker runs stream while the command changes
// its position. A tracker that can hold streams is asked for a hold. For
// the others, Kafka is asked whether the stream's transactional producer
// has a transaction open.
func (c *offsetsCmd) holdStream(ctx context.Context, stream string) (release func(), err error) {
	if holder, ok := c.tracker.(offsets.Holder); ok {
		hold, err := holder.Hold(ctx, stream)
		if errors.Is(err, offsets.ErrHeld) {
			return nil, fmt.Errorf("a worker is running stream %q: %w", stream, err)
		}
		if err != nil {
			return nil, err
		}
		return func() { _ = hold.Release(context.Background()) }, nil
	}

	client, err := kgo.NewClient(kgo.SeedBrokers(c.kafka.Brokers...))
	if err != nil {
		return nil, err
	}
	defer client.Close()
	described, err := kadm.NewClient(client).DescribeTransactions(ctx, "sluice-"+stream)
	if err != nil {
		return nil, fmt.Errorf("ask Kafka at %v whether a worker runs stream %q: %w", c.kafka.Brokers, stream, err)
	}
	for _, txn := range described {
		if txn.State == "Ongoing" {
			return nil, fmt.Errorf("a worker is running stream %q: its Kafka transaction is open; stop it first", stream)
		}
	}
	return func() {}, nil
}

// parsePositionArg reads FILE:POS and an optional GTID set.
func parsePositionArg(args []string) (offsets.Position, error) {
	at := strings.LastIndexByte(args[0], ':')
	if at <= 0 {
		return offsets.Position{}, fmt.Errorf("position %q is invalid: write it as FILE:POS, such as mysql-bin.000042:4", args[0])
	}
	pos, err := strconv.ParseUint(args[0][at+1:], 10, 32)
	if err != nil || pos < 4 {
		return offsets.Position{}, fmt.Errorf("binlog offset %q is invalid: give the offset of an event's start, "+
			"a number from 4 to 4294967295, as SHOW BINLOG EVENTS lists them", args[0][at+1:])
	}
	p := offsets.Position{File: args[0][:at], Pos: uint32(pos)}
	if len(args) == 2 {
		// MySQL GTIDs read uuid:ranges, MariaDB's domain-server-sequence.
		p.GTIDSet, p.Flavor = args[1], "mariadb"
		if strings.Contains(args[1], ":") {
			p.Flavor = "mysql"
		}
	}
	// The stored form's checks apply here too, such as a numeric suffix,
	// with the words of a typed argument rather than of a stored position.
	if err := p.Check(); err != nil {
		return offsets.Position{}, fmt.Errorf("position %s is invalid: %w", strings.Join(args, " "), err)
	}
	return p, nil
}

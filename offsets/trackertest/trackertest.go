// Package trackertest checks that an offsets.Tracker behaves as sluice
// expects. Every tracker backend, built in or custom, runs Run against a
// store of its own.
package trackertest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sluice-cdc/sluice/offsets"
)

// Run checks tracker behaviour against the trackers that open returns.
// Each subtest opens a tracker and closes it at the end. prefix starts
// every stream id the checks use, so that runs against a shared store do
// not see each other's streams.
func Run(t *testing.T, prefix string, open func(t *testing.T) offsets.Tracker) {
	ctx := context.Background()
	position := func(file string, pos uint32) offsets.Position {
		return offsets.Position{
			ServerID:   7,
			Flavor:     "mariadb",
			File:       file,
			Pos:        pos,
			GTIDSet:    "0-7-" + fmt.Sprint(pos),
			CapturedAt: time.Date(2026, 12, 4, 10, 0, 0, 123456000, time.UTC),
		}
	}
	openChecked := func(t *testing.T) offsets.Tracker {
		tracker := open(t)
		t.Cleanup(func() {
			if err := tracker.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return tracker
	}

	t.Run("load of an unknown stream is empty", func(t *testing.T) {
		tracker := openChecked(t)
		got, err := tracker.Load(ctx, prefix+"never-saved")
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if !got.IsZero() {
			t.Errorf("Load = %s, want an empty position", got)
		}
	})

	t.Run("save then load round trip", func(t *testing.T) {
		tracker := openChecked(t)
		stream := prefix + "round-trip"
		want := position("mysql-bin.000012", 4711)
		want.SkipRowsEvents = 3
		if err := tracker.Save(ctx, stream, want); err != nil {
			t.Fatalf("Save: %v", err)
		}
		got, err := tracker.Load(ctx, stream)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		got.Stream = ""
		if !got.CapturedAt.Equal(want.CapturedAt) {
			t.Errorf("CapturedAt = %v, want %v", got.CapturedAt, want.CapturedAt)
		}
		got.CapturedAt = want.CapturedAt
		if got != want {
			t.Errorf("Load = %+v, want %+v", got, want)
		}
	})

	t.Run("newer save replaces older", func(t *testing.T) {
		tracker := openChecked(t)
		stream := prefix + "replace"
		for _, p := range []offsets.Position{position("mysql-bin.000001", 100), position("mysql-bin.000002", 4)} {
			if err := tracker.Save(ctx, stream, p); err != nil {
				t.Fatalf("Save %s: %v", p, err)
			}
		}
		got, err := tracker.Load(ctx, stream)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.File != "mysql-bin.000002" || got.Pos != 4 {
			t.Errorf("Load = %s, want mysql-bin.000002:4", got)
		}
	})

	t.Run("streams are separate", func(t *testing.T) {
		tracker := openChecked(t)
		a, b := prefix+"separate-a", prefix+"separate-b"
		if err := tracker.Save(ctx, a, position("mysql-bin.000003", 300)); err != nil {
			t.Fatalf("Save %s: %v", a, err)
		}
		if err := tracker.Save(ctx, b, position("mysql-bin.000004", 400)); err != nil {
			t.Fatalf("Save %s: %v", b, err)
		}
		gotA, err := tracker.Load(ctx, a)
		if err != nil {
			t.Fatalf("Load %s: %v", a, err)
		}
		if gotA.Pos != 300 {
			t.Errorf("Load %s = %s, want pos 300", a, gotA)
		}
	})

	t.Run("list and delete", func(t *testing.T) {
		tracker := openChecked(t)
		stream := prefix + "listed"
		if err := tracker.Save(ctx, stream, position("mysql-bin.000005", 500)); err != nil {
			t.Fatalf("Save: %v", err)
		}

		streams, err := tracker.List(ctx)
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if !slices.Contains(streams, stream) {
			t.Errorf("List = %v, want it to contain %s", streams, stream)
		}
		if !slices.IsSorted(streams) {
			t.Errorf("List = %v, want it sorted", streams)
		}
		bulk, isBulk := tracker.(offsets.BulkLoader)
		if isBulk {
			all, err := bulk.LoadAll(ctx)
			if err != nil {
				t.Fatalf("LoadAll: %v", err)
			}
			if got := all[stream]; got.File != "mysql-bin.000005" || got.Pos != 500 {
				t.Errorf("LoadAll()[%s] = %s, want mysql-bin.000005:500", stream, got)
			}
		}

		if err := tracker.Delete(ctx, stream); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		got, err := tracker.Load(ctx, stream)
		if err != nil {
			t.Fatalf("Load after Delete: %v", err)
		}
		if !got.IsZero() {
			t.Errorf("Load after Delete = %s, want an empty position", got)
		}

		if streams, err = tracker.List(ctx); err != nil {
			t.Fatalf("List after Delete: %v", err)
		}
		if slices.Contains(streams, stream) {
			t.Errorf("List after Delete = %v, still contains %s", streams, stream)
		}
		if isBulk {
			all, err := bulk.LoadAll(ctx)
			if err != nil {
				t.Fatalf("LoadAll after Delete: %v", err)
			}
			if p, ok := all[stream]; ok {
				t.Errorf("LoadAll after Delete still has %s at %s", stream, p)
			}
		}

		if err := tracker.Delete(ctx, stream); err != nil {
			t.Errorf("second Delete: %v, want no error", err)
		}
	})

	t.Run("positions survive reopening", func(t *testing.T) {
		stream := prefix + "reopen"
		first := open(t)
		if err := first.Save(ctx, stream, position("mysql-bin.000006", 600)); err != nil {
			t.Fatalf("Save: %v", err)
		}
		if err := first.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		second := openChecked(t)
		got, err := second.Load(ctx, stream)
		if err != nil {
			t.Fatalf("Load: %v", err)
		}
		if got.Pos != 600 {
			t.Errorf("Load = %s, want pos 600", got)
		}
	})

	t.Run("invalid stream id is rejected", func(t *testing.T) {
		tracker := openChecked(t)
		for _, stream := range []string{"", "../escape", "a/b", "white space"} {
			if err := tracker.Save(ctx, stream, position("mysql-bin.000007", 700)); err == nil {
				t.Errorf("Save(%q) succeeded, want an error", stream)
			}
		}
	})

	t.Run("empty position is rejected", func(t *testing.T) {
		tracker := openChecked(t)
		if err := tracker.Save(ctx, prefix+"empty", offsets.Position{}); err == nil {
			t.Error("Save of an empty position succeeded, want an error")
		}
	})

	t.Run("check passes", func(t *testing.T) {
		tracker := openChecked(t)
		if err := tracker.Check(ctx); err != nil {
			t.Errorf("Check: %v", err)
		}
	})
}

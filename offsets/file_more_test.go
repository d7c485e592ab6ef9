package offsets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func filePosition(pos uint32) Position {
	return Position{ServerID: 1, Flavor: "mariadb", File: "mariadb-bin.000001", Pos: pos, CapturedAt: time.Now().UTC()}
}

func TestFileTrackerBackupsRotate(t *testing.T) {
	ctx := context.Background()
	tracker := &FileTracker{Dir: t.TempDir(), Backups: 2}
	for _, pos := range []uint32{100, 200, 300, 400} {
		if err := tracker.Save(ctx, "s", filePosition(pos)); err != nil {
			t.Fatalf("Save %d: %v", pos, err)
		}
	}
	path := filepath.Join(tracker.Dir, "s", "position.json")
	want := map[string]uint32{path: 400, path + ".1": 300, path + ".2": 200}
	for file, pos := range want {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("read %s: %v", file, err)
		}
		p, err := ParsePosition(data)
		if err != nil {
			t.Fatalf("parse %s: %v", file, err)
		}
		if p.Pos != pos {
			t.Errorf("%s holds pos %d, want %d", filepath.Base(file), p.Pos, pos)
		}
	}
	if _, err := os.Stat(path + ".3"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("position.json.3 exists (err %v), want only 2 backups", err)
	}
}

func TestFileTrackerSyncIntervalDelays(t *testing.T) {
	ctx := context.Background()
	tracker := &FileTracker{Dir: t.TempDir(), SyncInterval: time.Hour}
	if err := tracker.Save(ctx, "s", filePosition(100)); err != nil {
		t.Fatalf("first Save: %v", err)
	}
	if err := tracker.Save(ctx, "s", filePosition(200)); err != nil {
		t.Fatalf("second Save: %v", err)
	}
	onDisk := &FileTracker{Dir: tracker.Dir}
	if p, err := onDisk.Load(ctx, "s"); err != nil || p.Pos != 100 {
		t.Errorf("within the interval the file holds %s (err %v), want pos 100", p, err)
	}
	if err := tracker.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if p, err := onDisk.Load(ctx, "s"); err != nil || p.Pos != 200 {
		t.Errorf("after Close the file holds %s (err %v), want pos 200", p, err)
	}
}

func TestFileTrackerHoldExcludes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, second := &FileTracker{Dir: dir}, &FileTracker{Dir: dir}
	hold, err := first.Hold(ctx, "s")
	if err != nil {
		t.Fatalf("first Hold: %v", err)
	}
	_, err = second.Hold(ctx, "s")
	if !errors.Is(err, ErrHeld) {
		t.Fatalf("second Hold = %v, want ErrHeld", err)
	}
	if !strings.Contains(err.Error(), `"s"`) {
		t.Errorf("the error %q does not name the stream", err)
	}
	if err := hold.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	again, err := second.Hold(ctx, "s")
	if err != nil {
		t.Fatalf("Hold after Release: %v", err)
	}
	again.Release(ctx)
}

func TestFileBackendSettings(t *testing.T) {
	tests := []struct {
		name, variable, value, wantErr string
	}{
		{"mode not octal", "SLUICE_OFFSETS_FILE_MODE", "rw", "SLUICE_OFFSETS_FILE_MODE"},
		{"mode without owner write", "SLUICE_OFFSETS_FILE_MODE", "0400", "SLUICE_OFFSETS_FILE_MODE"},
		{"too many backups", "SLUICE_OFFSETS_FILE_BACKUPS", "1000", "SLUICE_OFFSETS_FILE_BACKUPS"},
		{"negative interval", "SLUICE_OFFSETS_FILE_SYNC_INTERVAL", "-1s", "SLUICE_OFFSETS_FILE_SYNC_INTERVAL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SLUICE_OFFSETS_DIR", t.TempDir())
			t.Setenv(tt.variable, tt.value)
			_, err := Open(context.Background(), "file")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
	t.Setenv("SLUICE_OFFSETS_DIR", t.TempDir())
	t.Setenv("SLUICE_OFFSETS_FILE_MODE", "0640")
	tracker, err := Open(context.Background(), "file")
	if err != nil {
		t.Fatalf("Open with valid settings: %v", err)
	}
	if mode := tracker.(*FileTracker).Mode; mode != 0o640 {
		t.Errorf("mode %o, want 640", mode)
	}
}

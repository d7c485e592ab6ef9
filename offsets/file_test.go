package offsets

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func samplePosition() Position {
	return Position{
		ServerID:   1,
		Flavor:     "mariadb",
		File:       "mariadb-bin.000003",
		Pos:        4096,
		GTIDSet:    "0-1-5,1-2-7",
		CapturedAt: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read directory %s: %v", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, entry := range entries {
		names = append(names, entry.Name())
	}
	slices.Sort(names)
	return names
}

func TestFileTrackerRoundTrip(t *testing.T) {
	ctx := context.Background()
	tracker := &FileTracker{Dir: t.TempDir()}
	want := samplePosition()

	if err := tracker.Save(ctx, "orders", want); err != nil {
		t.Fatalf("Save error: %v", err)
	}
	got, err := tracker.Load(ctx, "orders")
	if err != nil {
		t.Fatalf("Load error: %v", err)
	}
	if !samePosition(got, want) {
		t.Errorf("Load = %+v; want %+v", got, want)
	}
}

func TestFileTrackerOverwrite(t *testing.T) {
	ctx := context.Background()
	tracker := &FileTracker{Dir: t.TempDir()}
	first := samplePosition()
	second := first
	second.File = "mariadb-bin.000004"
	second.Pos = 4
	second.GTIDSet = ""

	if err := tracker.Save(ctx, "orders", first); err != nil {
		t.Fatalf("first Save error: %v", err)
	}
	if err := tracker.Save(ctx, "orders", second); err != nil {
		t.Fatalf("second Save error: %v", err)
	}
	got, err := tracker.Load(ctx, "orders")
	if err != nil {
		t.Fatalf("Load error: %v", err)
	}
	if !samePosition(got, second) {
		t.Errorf("Load = %+v; want %+v", got, second)
	}
}

func TestFileTrackerLoadMissing(t *testing.T) {
	cases := []struct {
		name string
		dir  string
	}{
		{"empty dir", t.TempDir()},
		{"dir does not exist", filepath.Join(t.TempDir(), "absent")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tracker := &FileTracker{Dir: tc.dir}
			got, err := tracker.Load(context.Background(), "orders")
			if err != nil {
				t.Errorf("Load error: %v; want nil", err)
			}
			if !got.IsZero() {
				t.Errorf("Load = %+v; want the zero Position", got)
			}
		})
	}
}

func TestFileTrackerMode(t *testing.T) {
	cases := []struct {
		name string
		mode os.FileMode
		want os.FileMode
	}{
		{"default", 0, 0o600},
		{"group readable", 0o640, 0o640},
		{"world readable", 0o644, 0o644},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tracker := &FileTracker{Dir: dir, Mode: tc.mode}
			if err := tracker.Save(context.Background(), "orders", samplePosition()); err != nil {
				t.Fatalf("Save error: %v", err)
			}
			info, err := os.Stat(filepath.Join(dir, "orders", "position.json"))
			if err != nil {
				t.Fatalf("stat position file: %v", err)
			}
			if got := info.Mode().Perm(); got != tc.want {
				t.Errorf("position file mode = %#o; want %#o", got, tc.want)
			}
		})
	}
}

func TestFileTrackerStreamDirs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tracker := &FileTracker{Dir: dir}
	orders := samplePosition()
	users := samplePosition()
	users.File = "mariadb-bin.000009"
	users.Pos = 77

	if err := tracker.Save(ctx, "orders", orders); err != nil {
		t.Fatalf("Save orders error: %v", err)
	}
	if err := tracker.Save(ctx, "users.v2", users); err != nil {
		t.Fatalf("Save users.v2 error: %v", err)
	}

	if got, want := dirNames(t, dir), []string{"orders", "users.v2"}; !slices.Equal(got, want) {
		t.Errorf("directories under Dir = %v; want %v", got, want)
	}
	for _, stream := range []string{"orders", "users.v2"} {
		if _, err := os.Stat(filepath.Join(dir, stream, "position.json")); err != nil {
			t.Errorf("position file of %s: %v", stream, err)
		}
	}

	gotOrders, err := tracker.Load(ctx, "orders")
	if err != nil {
		t.Fatalf("Load orders error: %v", err)
	}
	if !samePosition(gotOrders, orders) {
		t.Errorf("Load orders = %+v; want %+v", gotOrders, orders)
	}
	gotUsers, err := tracker.Load(ctx, "users.v2")
	if err != nil {
		t.Fatalf("Load users.v2 error: %v", err)
	}
	if !samePosition(gotUsers, users) {
		t.Errorf("Load users.v2 = %+v; want %+v", gotUsers, users)
	}
}

func TestFileTrackerInvalidStream(t *testing.T) {
	ctx := context.Background()
	for _, stream := range []string{"", ".", "..", "a/b", "../escape", "a\\b", "with space", "a\x00b"} {
		t.Run(stream, func(t *testing.T) {
			dir := t.TempDir()
			tracker := &FileTracker{Dir: dir}

			err := tracker.Save(ctx, stream, samplePosition())
			if err == nil {
				t.Errorf("Save(%q) returned no error; want an invalid stream id error", stream)
			} else if !strings.Contains(err.Error(), "invalid stream id") {
				t.Errorf("Save(%q) error %q does not say \"invalid stream id\"", stream, err)
			}

			p, err := tracker.Load(ctx, stream)
			if err == nil {
				t.Errorf("Load(%q) = %+v with no error; want an invalid stream id error", stream, p)
			} else if !strings.Contains(err.Error(), "invalid stream id") {
				t.Errorf("Load(%q) error %q does not say \"invalid stream id\"", stream, err)
			}

			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("Save(%q) created %v under Dir; want nothing", stream, names)
			}
		})
	}
}

func TestFileTrackerCorruptFile(t *testing.T) {
	cases := []struct {
		name    string
		content string
	}{
		{"garbage", "not json at all"},
		{"truncated", `{"file":"mysql-bin.000001","po`},
		{"empty", ""},
		{"no file", `{"pos":4}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "orders", "position.json")
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}

			tracker := &FileTracker{Dir: dir}
			p, err := tracker.Load(context.Background(), "orders")
			if err == nil {
				t.Fatalf("Load = %+v with no error; want an error for the corrupt file", p)
			}
			if !errors.Is(err, ErrInvalidPosition) {
				t.Errorf("Load error %v does not wrap ErrInvalidPosition", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("Load error %q does not name the path %s", err, path)
			}
			if !p.IsZero() {
				t.Errorf("Load = %+v on error; want the zero Position", p)
			}
		})
	}
}

func TestFileTrackerNoTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tracker := &FileTracker{Dir: dir}

	for i := range 3 {
		p := samplePosition()
		p.Pos += uint32(i)
		if err := tracker.Save(ctx, "orders", p); err != nil {
			t.Fatalf("Save %d error: %v", i, err)
		}
	}

	if got, want := dirNames(t, filepath.Join(dir, "orders")), []string{"position.json"}; !slices.Equal(got, want) {
		t.Errorf("files in the stream directory = %v; want %v", got, want)
	}
}

func TestFileTrackerFileContent(t *testing.T) {
	dir := t.TempDir()
	tracker := &FileTracker{Dir: dir}
	p := samplePosition()
	if err := tracker.Save(context.Background(), "orders", p); err != nil {
		t.Fatalf("Save error: %v", err)
	}

	data, err := os.ReadFile(filepath.Join(dir, "orders", "position.json"))
	if err != nil {
		t.Fatalf("read position file: %v", err)
	}
	// The file also names its stream.
	p.Stream = "orders"
	want, err := p.Marshal()
	if err != nil {
		t.Fatalf("Marshal error: %v", err)
	}
	if got := strings.TrimSuffix(string(data), "\n"); got != string(want) {
		t.Errorf("position file = %s; want %s", got, want)
	}
	if !strings.HasSuffix(string(data), "\n") {
		t.Errorf("position file %q does not end in a newline", data)
	}
}

func TestFileTrackerSaveUnwritableDir(t *testing.T) {
	// A regular file where a directory belongs stops the save for root
	// too, which directory permissions would not.
	blocker := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	tracker := &FileTracker{Dir: filepath.Join(blocker, "offsets")}
	if err := tracker.Save(context.Background(), "orders", samplePosition()); err == nil {
		t.Error("Save into a read-only directory returned no error")
	}
}

func TestFileTrackerFailedSaveCleansUp(t *testing.T) {
	dir := t.TempDir()
	// A directory in place of position.json makes the final rename fail
	// after the temporary file was written, even for root.
	blocker := filepath.Join(dir, "orders", "position.json")
	if err := os.MkdirAll(blocker, 0o750); err != nil {
		t.Fatal(err)
	}

	tracker := &FileTracker{Dir: dir}
	if err := tracker.Save(context.Background(), "orders", samplePosition()); err == nil {
		t.Fatal("Save over a directory named position.json returned no error")
	}
	if got, want := dirNames(t, filepath.Join(dir, "orders")), []string{"position.json"}; !slices.Equal(got, want) {
		t.Errorf("files in the stream directory after a failed Save = %v; want %v", got, want)
	}
}

func TestFileTrackerRejectsOtherStream(t *testing.T) {
	dir := t.TempDir()
	tracker := &FileTracker{Dir: dir}
	if err := tracker.Save(context.Background(), "orders", samplePosition()); err != nil {
		t.Fatalf("Save error: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "orders", "position.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "billing"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "billing", "position.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = tracker.Load(context.Background(), "billing")
	if err == nil {
		t.Fatal("Load of a position file copied from stream orders succeeded; want an error")
	}
	if !strings.Contains(err.Error(), `belongs to stream "orders"`) {
		t.Errorf("error %q does not name the stream the file belongs to", err)
	}
}

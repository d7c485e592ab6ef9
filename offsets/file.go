package offsets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// FileTracker keeps each stream's position in a file, position.json, in a
// directory of its own under Dir. A save replaces the file atomically: a
// crash leaves either the old position or the new one, never a torn file.
type FileTracker struct {
	Dir string
	// Mode is the permission of position files; 0 means 0o600.
	Mode os.FileMode
}

var validStream = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (t *FileTracker) path(stream string) (string, error) {
	if !validStream.MatchString(stream) || stream == "." || stream == ".." {
		return "", fmt.Errorf("invalid stream id %q: use letters, digits, '.', '_' and '-'", stream)
	}
	return filepath.Join(t.Dir, stream, "position.json"), nil
}

// Load returns the saved position of stream, or a zero Position and no
// error when none was saved.
func (t *FileTracker) Load(_ context.Context, stream string) (Position, error) {
	path, err := t.path(stream)
	if err != nil {
		return Position{}, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Position{}, nil
	}
	if err != nil {
		return Position{}, fmt.Errorf("read position file: %w", err)
	}
	p, err := ParsePosition(data)
	if err != nil {
		return Position{}, fmt.Errorf("position file %s: %w; move it away: sluice then resumes from the positions topic "+
			"when it holds this stream, or else from the server's current position", path, err)
	}
	if p.Stream != "" && p.Stream != stream {
		return Position{}, fmt.Errorf("position file %s belongs to stream %q, not %q: it was copied from another stream; "+
			"move it away so that sluice resumes from the positions topic", path, p.Stream, stream)
	}
	return p, nil
}

// Save writes p as the position of stream: to a temporary file that is
// synced, renamed over the old file, and made durable by syncing the
// directory. It returns only after the position is on disk.
func (t *FileTracker) Save(_ context.Context, stream string, p Position) error {
	path, err := t.path(stream)
	if err != nil {
		return err
	}
	if p.IsZero() || p.Pos == 0 {
		return fmt.Errorf("%w: cannot save %s as the position of stream %q", ErrInvalidPosition, p, stream)
	}
	p.Stream = stream
	data, err := p.Marshal()
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create position directory: %w", err)
	}

	mode := t.Mode
	if mode == 0 {
		mode = 0o600
	}
	tmp, err := os.CreateTemp(dir, ".position-*.tmp")
	if err != nil {
		return fmt.Errorf("create temporary position file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once the rename has happened

	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write position file: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("set position file mode: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("sync position file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close position file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace position file: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open position directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync position directory: %w", err)
	}
	return nil
}

// Delete removes the position file of stream and its directory.
func (t *FileTracker) Delete(_ context.Context, stream string) error {
	path, err := t.path(stream)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete position file: %w", err)
	}
	if err := os.Remove(filepath.Dir(path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete position directory: %w", err)
	}
	return syncDir(t.Dir)
}

// List returns the streams that have a position file under Dir.
func (t *FileTracker) List(_ context.Context) ([]string, error) {
	entries, err := os.ReadDir(t.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list position directory: %w", err)
	}
	var streams []string
	for _, e := range entries {
		if !e.IsDir() || !validStream.MatchString(e.Name()) {
			continue
		}
		if _, err := os.Stat(filepath.Join(t.Dir, e.Name(), "position.json")); err == nil {
			streams = append(streams, e.Name())
		}
	}
	return streams, nil
}

// Check creates Dir when missing and verifies that a file can be written
// in it.
func (t *FileTracker) Check(_ context.Context) error {
	if err := os.MkdirAll(t.Dir, 0o750); err != nil {
		return fmt.Errorf("create position directory: %w", err)
	}
	f, err := os.CreateTemp(t.Dir, ".check-*.tmp")
	if err != nil {
		return fmt.Errorf("position directory %s is not writable: %w", t.Dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// Close does nothing: a file tracker holds no open files between calls.
func (t *FileTracker) Close() error { return nil }

var _ Tracker = (*FileTracker)(nil)

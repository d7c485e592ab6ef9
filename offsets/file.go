package offsets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// FileSettings are the settings of the file tracker.
type FileSettings struct {
	Dir          string        `envconfig:"SLUICE_OFFSETS_DIR" default:"./offsets" desc:"directory where the file tracker keeps <stream>/position.json, and where the schema history is kept with every tracker"`
	Mode         string        `envconfig:"SLUICE_OFFSETS_FILE_MODE" default:"0600" desc:"octal permission of position files"`
	Backups      int           `envconfig:"SLUICE_OFFSETS_FILE_BACKUPS" default:"0" desc:"previous position files to keep as position.json.1 (newest) to position.json.<n>"`
	SyncInterval time.Duration `envconfig:"SLUICE_OFFSETS_FILE_SYNC_INTERVAL" default:"0s" desc:"shortest time between two writes of a position file; 0 writes at every commit. The positions topic covers the gap after a crash"`
}

func init() {
	Register("file", func(_ context.Context, s *FileSettings) (Tracker, error) {
		mode, err := strconv.ParseUint(s.Mode, 8, 32)
		if err != nil || mode&^0o777 != 0 || mode&0o600 != 0o600 {
			return nil, fmt.Errorf("SLUICE_OFFSETS_FILE_MODE %q is invalid: give an octal permission that lets the owner read and write, such as 0600 or 0640", s.Mode)
		}
		if s.Backups < 0 || s.Backups > 100 {
			return nil, fmt.Errorf("SLUICE_OFFSETS_FILE_BACKUPS %d is out of range: use 0 to 100", s.Backups)
		}
		if s.SyncInterval < 0 {
			return nil, fmt.Errorf("SLUICE_OFFSETS_FILE_SYNC_INTERVAL %s is negative: use 0s or more", s.SyncInterval)
		}
		if s.Dir == "" {
			return nil, fmt.Errorf("SLUICE_OFFSETS_DIR is empty: set the directory where positions are kept, such as ./offsets")
		}
		return &FileTracker{Dir: s.Dir, Mode: os.FileMode(mode), Backups: s.Backups, SyncInterval: s.SyncInterval}, nil
	})
}

// FileTracker keeps each stream's position in a file, position.json, in a
// directory of its own under Dir. A save replaces the file atomically: a
// crash leaves either the old position or the new one, never a torn file.
type FileTracker struct {
	Dir string
	// Mode is the permission of position files; 0 means 0o600.
	Mode os.FileMode
	// Backups is how many previous position files to keep.
	Backups int
	// SyncInterval is the shortest time between two writes of a stream's
	// file. A save within it is kept in memory and written by a later save
	// or by Close.
	SyncInterval time.Duration

	mu      sync.Mutex
	written map[string]time.Time
	delayed map[string]Position
}

var validStream = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

func (t *FileTracker) path(stream string) (string, error) {
	if err := checkStreamID(stream); err != nil {
		return "", err
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
// directory. It returns only after the position is on disk, unless
// SyncInterval delays the write.
func (t *FileTracker) Save(_ context.Context, stream string, p Position) error {
	path, err := t.path(stream)
	if err != nil {
		return err
	}
	if p.IsZero() || p.Pos == 0 {
		return fmt.Errorf("%w: cannot save %s as the position of stream %q", ErrInvalidPosition, p, stream)
	}
	if t.SyncInterval > 0 {
		t.mu.Lock()
		defer t.mu.Unlock()
		if time.Since(t.written[stream]) < t.SyncInterval {
			if t.delayed == nil {
				t.delayed = map[string]Position{}
			}
			t.delayed[stream] = p
			return nil
		}
		delete(t.delayed, stream)
		if t.written == nil {
			t.written = map[string]time.Time{}
		}
		t.written[stream] = time.Now()
	}
	return t.write(path, stream, p)
}

// write replaces the position file at path with p.
func (t *FileTracker) write(path, stream string, p Position) error {
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
	if err := t.rotateBackups(path); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace position file: %w", err)
	}
	return syncDir(dir)
}

// rotateBackups shifts position.json.1 … .<Backups-1> up by one and
// copies the current file to position.json.1.
func (t *FileTracker) rotateBackups(path string) error {
	if t.Backups == 0 {
		return nil
	}
	current, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read position file for its backup: %w", err)
	}
	for i := t.Backups - 1; i >= 1; i-- {
		from := path + "." + strconv.Itoa(i)
		if err := os.Rename(from, path+"."+strconv.Itoa(i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate position backups: %w", err)
		}
	}
	if err := os.WriteFile(path+".1", current, 0o600); err != nil {
		return fmt.Errorf("write position backup: %w", err)
	}
	return nil
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

// Delete removes the position file of stream, and its directory unless
// other files remain there, such as the lock file of Hold or the schema
// history.
func (t *FileTracker) Delete(_ context.Context, stream string) error {
	path, err := t.path(stream)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete position file: %w", err)
	}
	dir := filepath.Dir(path)
	err = os.Remove(dir)
	switch {
	case errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST):
		return syncDir(dir)
	case err != nil && !errors.Is(err, os.ErrNotExist):
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

// Close writes the positions that SyncInterval delayed.
func (t *FileTracker) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for stream, p := range t.delayed {
		path, err := t.path(stream)
		if err == nil {
			err = t.write(path, stream, p)
		}
		errs = append(errs, err)
	}
	t.delayed = nil
	return errors.Join(errs...)
}

// Hold locks the stream's directory with an advisory file lock, which the
// system releases when the process ends, however it ends.
func (t *FileTracker) Hold(_ context.Context, stream string) (Hold, error) {
	path, err := t.path(stream)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create position directory: %w", err)
	}
	lockPath := filepath.Join(filepath.Dir(path), "lock")
	f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another sluice process holds stream %q (lock file %s); "+
				"stop it first, or give this one another SLUICE_STREAM_ID", ErrHeld, stream, lockPath)
		}
		return nil, fmt.Errorf("lock %s: %w", lockPath, err)
	}
	return &fileHold{file: f, lost: make(chan struct{})}, nil
}

type fileHold struct {
	file *os.File
	lost chan struct{}
}

// Lost is never closed: a file lock lasts as long as its process.
func (h *fileHold) Lost() <-chan struct{} { return h.lost }

func (h *fileHold) Release(context.Context) error {
	return h.file.Close() // closing the file releases the lock
}

var _ Holder = (*FileTracker)(nil)

package offsets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"text/tabwriter"

	"github.com/kelseyhightower/envconfig"
)

// A Tracker keeps the position of each stream in some store. sluice saves
// a position only after the Kafka transaction that covers it has
// committed, so a tracker may lag behind Kafka but is never ahead of it.
// Start reconciles the two, as the package documentation describes.
//
// Every method takes the stream id, a name of letters, digits, '.', '_'
// and '-'. A Tracker is used by one goroutine at a time.
type Tracker interface {
	// Load returns the saved position of stream, or a zero Position and a
	// nil error when none is saved.
	Load(ctx context.Context, stream string) (Position, error)
	// Save stores p as the position of stream. It returns only once the
	// position is durable in the store.
	Save(ctx context.Context, stream string, p Position) error
	// Delete removes the position of stream. Deleting a stream that has no
	// position is not an error.
	Delete(ctx context.Context, stream string) error
	// List returns the ids of all streams with a saved position, sorted.
	List(ctx context.Context) ([]string, error)
	// Check reports whether the store can be reached and written to now.
	Check(ctx context.Context) error
	// Close releases the tracker's connections and holds.
	Close() error
}

// A Holder is a Tracker that can hold a stream for one worker at a time,
// such as the blob tracker with its lease. A worker holds its stream from
// start to stop, and a second worker with the same stream id is refused
// before it produces anything. Trackers that are not Holders rely on
// Kafka's transactional fencing alone.
type Holder interface {
	Tracker
	// Hold takes the stream for the caller. It fails with an error wrapping
	// ErrHeld when another worker holds it.
	Hold(ctx context.Context, stream string) (Hold, error)
}

// A BulkLoader is a Tracker that reads the positions of all its streams
// in one pass, where List and a Load per stream would read its store once
// per stream. sluice offsets list uses it when a tracker implements it.
type BulkLoader interface {
	Tracker
	// LoadAll returns the saved position of every stream that has one.
	LoadAll(ctx context.Context) (map[string]Position, error)
}

// A Hold is a stream held by one worker.
type Hold interface {
	// Lost is closed when the hold is lost, for example because renewing it
	// failed for too long. The worker must then stop before its next
	// commit.
	Lost() <-chan struct{}
	// Release gives the stream up.
	Release(ctx context.Context) error
}

// ErrHeld is wrapped by the error of Hold when another worker holds the
// stream.
var ErrHeld = errors.New("stream is held by another worker")

// A backend is a kind of tracker that SLUICE_OFFSETS_TYPE can name.
type backend struct {
	// open reads the backend's settings from the environment and opens a
	// tracker.
	open func(ctx context.Context) (Tracker, error)
	// usage writes the backend's environment variables.
	usage func(w io.Writer) error
	// settings returns a new, empty settings struct of the backend.
	settings func() any
}

var (
	backendsMu sync.Mutex
	backends   = map[string]backend{}
)

// Register makes a tracker backend available as SLUICE_OFFSETS_TYPE=name.
// C is the backend's settings: a struct whose fields carry envconfig tags
// with full variable names, such as envconfig:"SLUICE_OFFSETS_ACME_URL",
// and desc tags that sluice --help prints. open receives the settings read
// from the environment.
//
// Register is meant to be called from an init function. It panics when
// name is empty or registered already.
func Register[C any](name string, open func(ctx context.Context, settings *C) (Tracker, error)) {
	if name == "" {
		panic("offsets: Register with an empty name")
	}
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[name]; dup {
		panic("offsets: tracker " + name + " registered twice")
	}
	backends[name] = backend{
		open: func(ctx context.Context) (Tracker, error) {
			settings := new(C)
			if err := envconfig.Process("", settings); err != nil {
				return nil, fmt.Errorf("offsets type %s: %w", name, err)
			}
			return open(ctx, settings)
		},
		usage: func(w io.Writer) error {
			tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
			if err := envconfig.Usagef("", new(C), tw, usageFormat); err != nil {
				return err
			}
			return tw.Flush()
		},
		settings: func() any { return new(C) },
	}
}

// Settings returns a pointer to a new, empty settings struct of backend
// name, or nil when no backend has that name.
func Settings(name string) any {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if b, ok := backends[name]; ok {
		return b.settings()
	}
	return nil
}

const usageFormat = `{{range .}}  {{usage_key .}}	{{usage_description .}}{{if usage_default .}} (default {{usage_default .}}){{end}}
{{end}}`

// Types returns the names of the registered tracker backends, sorted.
func Types() []string {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	names := make([]string, 0, len(backends))
	for name := range backends {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Open opens a tracker of the registered backend name, reading its
// settings from the environment.
func Open(ctx context.Context, name string) (Tracker, error) {
	backendsMu.Lock()
	b, ok := backends[name]
	backendsMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("SLUICE_OFFSETS_TYPE %q is not a tracker: use one of %v", name, Types())
	}
	return b.open(ctx)
}

// Usage writes the environment variables of backend name.
func Usage(w io.Writer, name string) error {
	backendsMu.Lock()
	b, ok := backends[name]
	backendsMu.Unlock()
	if !ok {
		return fmt.Errorf("tracker %q not found: use one of %v", name, Types())
	}
	return b.usage(w)
}

// IsRegistered reports whether a backend is registered as name.
func IsRegistered(name string) bool {
	return slices.Contains(Types(), name)
}

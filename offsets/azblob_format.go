package offsets

import (
	"encoding/json"
	"fmt"
	"strings"
)

// BlobName returns the name of the blob that keeps the position of stream.
func (t *BlobTracker) BlobName(stream string) (string, error) {
	return positionBlobName(t.prefix, stream)
}

func positionBlobName(prefix, stream string) (string, error) {
	if !validStream.MatchString(stream) || stream == "." || stream == ".." {
		return "", fmt.Errorf("invalid stream id %q: use letters, digits, '.', '_' and '-'", stream)
	}
	return prefix + stream + ".json", nil
}

// streamOfBlob returns the stream whose position blob is name, and false
// for any other blob under prefix.
func streamOfBlob(prefix, name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return "", false
	}
	stream, ok := strings.CutSuffix(rest, ".json")
	if !ok || !validStream.MatchString(stream) || stream == "." || stream == ".." {
		return "", false
	}
	return stream, true
}

// placeholderMetadata marks a blob that Hold created for a stream with no
// position, so that List leaves it out. A save replaces the metadata.
const placeholderMetadata = "sluiceplaceholder"

// placeholderBlob returns the content of a placeholder blob: a position
// that names only its stream.
func placeholderBlob(stream string) ([]byte, error) {
	return Position{Stream: stream}.Marshal()
}

// parsePositionBlob reads the content of stream's blob. A placeholder
// returns a zero Position.
func parsePositionBlob(data []byte, stream string) (Position, error) {
	var p Position
	if err := json.Unmarshal(data, &p); err != nil {
		return Position{}, fmt.Errorf("%w: %v", ErrInvalidPosition, err)
	}
	if p.Stream != "" && p.Stream != stream {
		return Position{}, fmt.Errorf("%w: it belongs to stream %q, not %q", ErrInvalidPosition, p.Stream, stream)
	}
	if p.Stream == stream && p.IsZero() && p.Pos == 0 {
		return Position{}, nil
	}
	return ParsePosition(data)
}

// isPlaceholder reports whether blob metadata marks a placeholder.
// Metadata names are case-insensitive.
func isPlaceholder(metadata map[string]*string) bool {
	for name := range metadata {
		if strings.EqualFold(name, placeholderMetadata) {
			return true
		}
	}
	return false
}

package offsets_test

import (
	"testing"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/offsets/trackertest"
)

func TestFileTrackerConformance(t *testing.T) {
	dir := t.TempDir()
	trackertest.Run(t, "file-", func(t *testing.T) offsets.Tracker {
		return &offsets.FileTracker{Dir: dir}
	})
}

//go:build integration

package integration

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"

	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/offsets/trackertest"
)

// The Azurite blob service that deploy/local/up.sh starts, with the same
// variable names as deploy/local/env.sh.
var azuriteAddr = net.JoinHostPort(envOr("AZURITE_HOST", "127.0.0.1"), envOr("AZURITE_BLOB_PORT", "10000"))

// Azurite's built-in development account and its published key.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	// blobContainer is shared by all tests, and each test has a blob prefix
	// of its own.
	blobContainer = "sluice-it"
	// blobLeaseSeconds is the shortest lease Azure Storage grants, so that
	// tests about lease expiry and renewal finish soonest.
	blobLeaseSeconds = 15
)

func azuriteEndpoint() string {
	return "http://" + azuriteAddr + "/" + azuriteAccount
}

// blobSettings returns tracker settings for Azurite with a blob prefix
// unique to this test, and fails the test when Azurite is not running.
func blobSettings(t *testing.T) offsets.BlobSettings {
	t.Helper()
	conn, err := net.DialTimeout("tcp", azuriteAddr, 3*time.Second)
	if err != nil {
		t.Fatalf("the azblob tracker tests need Azurite: %s is not reachable (%v); run deploy/local/up.sh first", azuriteAddr, err)
	}
	conn.Close()
	name := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	settings := offsets.BlobSettings{
		Account:      azuriteAccount,
		Key:          azuriteKey,
		Endpoint:     azuriteEndpoint(),
		Container:    blobContainer,
		Prefix:       fmt.Sprintf("it/%s-%d/", name, rand.IntN(1_000_000)),
		LeaseSeconds: blobLeaseSeconds,
	}
	// Registered first, so it runs after the trackers have closed and
	// released their leases.
	t.Cleanup(func() { deleteBlobs(t, settings) })
	return settings
}

// newContainerClient returns a client of the test container that signs
// with the account key, for steps that the tracker does not offer.
func newContainerClient(t *testing.T, settings offsets.BlobSettings) *container.Client {
	t.Helper()
	credential, err := container.NewSharedKeyCredential(settings.Account, settings.Key)
	if err != nil {
		t.Fatal(err)
	}
	client, err := container.NewClientWithSharedKeyCredential(settings.Endpoint+"/"+settings.Container, credential, nil)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// deleteBlobs deletes the blobs under the test's prefix, so that Azurite's
// data does not grow with every run.
func deleteBlobs(t *testing.T, settings offsets.BlobSettings) {
	ctx := context.Background()
	client := newContainerClient(t, settings)
	pager := client.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: &settings.Prefix})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			t.Logf("list blobs under %s for cleanup: %v", settings.Prefix, err)
			return
		}
		for _, item := range page.Segment.BlobItems {
			if _, err := client.NewBlobClient(*item.Name).Delete(ctx, nil); err != nil {
				t.Logf("delete blob %s for cleanup: %v", *item.Name, err)
			}
		}
	}
}

// openBlobTracker opens a tracker that the test closes at its end.
func openBlobTracker(t *testing.T, settings offsets.BlobSettings) *offsets.BlobTracker {
	t.Helper()
	tracker, err := offsets.OpenBlob(context.Background(), &settings)
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	t.Cleanup(func() {
		if err := tracker.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tracker
}

// holdStream holds stream with tracker and releases it at the test's end.
func holdStream(t *testing.T, tracker *offsets.BlobTracker, stream string) offsets.Hold {
	t.Helper()
	hold, err := tracker.Hold(context.Background(), stream)
	if err != nil {
		t.Fatalf("Hold %s: %v", stream, err)
	}
	t.Cleanup(func() { hold.Release(context.Background()) })
	return hold
}

func blobPosition(pos uint32) offsets.Position {
	return offsets.Position{
		ServerID:   7,
		Flavor:     "mariadb",
		File:       "mariadb-bin.000004",
		Pos:        pos,
		GTIDSet:    fmt.Sprintf("0-7-%d", pos),
		CapturedAt: time.Now().UTC(),
	}
}

func loadPos(t *testing.T, tracker offsets.Tracker, stream string) uint32 {
	t.Helper()
	p, err := tracker.Load(context.Background(), stream)
	if err != nil {
		t.Fatalf("Load %s: %v", stream, err)
	}
	return p.Pos
}

// breakLease breaks the lease on blob name at once, as an operator would.
func breakLease(t *testing.T, settings offsets.BlobSettings, name string) {
	t.Helper()
	client := newContainerClient(t, settings)
	leaseClient, err := lease.NewBlobClient(client.NewBlobClient(name), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaseClient.BreakLease(context.Background(), &lease.BlobBreakOptions{BreakPeriod: to.Ptr[int32](0)}); err != nil {
		t.Fatalf("break lease on %s: %v", name, err)
	}
}

func TestBlobTrackerConformance(t *testing.T) {
	settings := blobSettings(t)
	trackertest.Run(t, "azblob-", func(t *testing.T) offsets.Tracker {
		tracker, err := offsets.OpenBlob(context.Background(), &settings)
		if err != nil {
			t.Fatalf("OpenBlob: %v", err)
		}
		return tracker
	})
}

func TestAzblobTrackerFromEnvironment(t *testing.T) {
	settings := blobSettings(t)
	t.Setenv("SLUICE_OFFSETS_AZBLOB_CONNECTION_STRING", "DefaultEndpointsProtocol=http;AccountName="+azuriteAccount+
		";AccountKey="+azuriteKey+";BlobEndpoint="+azuriteEndpoint()+";")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_ACCOUNT", "")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_KEY", "")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_ENDPOINT", "")
	t.Setenv("SLUICE_OFFSETS_AZBLOB_CONTAINER", blobContainer)
	t.Setenv("SLUICE_OFFSETS_AZBLOB_PREFIX", settings.Prefix)
	// Unset it, so that the default applies. t.Setenv restores the old value.
	t.Setenv("SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS", "")
	os.Unsetenv("SLUICE_OFFSETS_AZBLOB_LEASE_SECONDS")

	ctx := context.Background()
	tracker, err := offsets.Open(ctx, "azblob")
	if err != nil {
		t.Fatalf("Open azblob: %v", err)
	}
	defer tracker.Close()
	if _, ok := tracker.(offsets.Holder); !ok {
		t.Errorf("the azblob tracker %T is not an offsets.Holder", tracker)
	}
	if err := tracker.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	if err := tracker.Save(ctx, "orders", blobPosition(100)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if pos := loadPos(t, tracker, "orders"); pos != 100 {
		t.Errorf("Load = pos %d, want 100", pos)
	}
}

func TestBlobHoldRejectsSecondTracker(t *testing.T) {
	settings := blobSettings(t)
	first, second := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	hold := holdStream(t, first, "orders")
	_, err := second.Hold(ctx, "orders")
	if !errors.Is(err, offsets.ErrHeld) {
		t.Fatalf("second Hold = %v, want an error wrapping ErrHeld", err)
	}
	for _, part := range []string{`"orders"`, "SLUICE_STREAM_ID=orders", "expires within", "az storage blob lease break",
		"--container-name " + blobContainer, "--blob-name " + settings.Prefix + "orders.json"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("second Hold error %q does not contain %q", err, part)
		}
	}

	if err := hold.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	holdStream(t, second, "orders")
}

func TestBlobHoldTwiceByOneTracker(t *testing.T) {
	tracker := openBlobTracker(t, blobSettings(t))
	holdStream(t, tracker, "orders")
	_, err := tracker.Hold(context.Background(), "orders")
	if err == nil {
		t.Fatal("second Hold by the same tracker succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "held by this tracker already") {
		t.Errorf("second Hold error %q does not say that this tracker holds the stream", err)
	}
}

func TestBlobHoldPlaceholderLoadsEmpty(t *testing.T) {
	settings := blobSettings(t)
	tracker, other := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	holdStream(t, tracker, "orders")
	for _, reader := range []*offsets.BlobTracker{tracker, other} {
		p, err := reader.Load(ctx, "orders")
		if err != nil {
			t.Fatalf("Load of a held stream without a position: %v", err)
		}
		if !p.IsZero() {
			t.Errorf("Load of a held stream without a position = %s, want an empty position", p)
		}
	}
	streams, err := tracker.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if slices.Contains(streams, "orders") {
		t.Errorf("List = %v, want no stream that has only a placeholder", streams)
	}

	if err := tracker.Save(ctx, "orders", blobPosition(200)); err != nil {
		t.Fatalf("Save over the placeholder: %v", err)
	}
	if streams, err = tracker.List(ctx); err != nil {
		t.Fatalf("List after Save: %v", err)
	}
	if !slices.Contains(streams, "orders") {
		t.Errorf("List after Save = %v, want it to contain orders", streams)
	}
}

func TestBlobSaveWithoutLeaseRejected(t *testing.T) {
	settings := blobSettings(t)
	holder, other := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	holdStream(t, holder, "orders")
	if err := holder.Save(ctx, "orders", blobPosition(300)); err != nil {
		t.Fatalf("Save by the holder: %v", err)
	}
	if pos := loadPos(t, other, "orders"); pos != 300 {
		t.Fatalf("Load by the other tracker = pos %d, want 300", pos)
	}

	err := other.Save(ctx, "orders", blobPosition(400))
	if !errors.Is(err, offsets.ErrHeld) {
		t.Fatalf("Save without the lease = %v, want an error wrapping ErrHeld", err)
	}
	if !strings.Contains(err.Error(), "was not saved") {
		t.Errorf("Save without the lease error %q does not say that nothing was saved", err)
	}
	if err := other.Delete(ctx, "orders"); !errors.Is(err, offsets.ErrHeld) {
		t.Errorf("Delete without the lease = %v, want an error wrapping ErrHeld", err)
	}
	if pos := loadPos(t, holder, "orders"); pos != 300 {
		t.Errorf("Load after the rejected writes = pos %d, want 300", pos)
	}

	if err := holder.Save(ctx, "orders", blobPosition(500)); err != nil {
		t.Errorf("second Save by the holder: %v", err)
	}
}

func TestBlobDeleteWhileHeldKeepsHold(t *testing.T) {
	settings := blobSettings(t)
	holder, other := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	holdStream(t, holder, "orders")
	if err := holder.Save(ctx, "orders", blobPosition(600)); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := holder.Delete(ctx, "orders"); err != nil {
		t.Fatalf("Delete by the holder: %v", err)
	}
	p, err := other.Load(ctx, "orders")
	if err != nil {
		t.Fatalf("Load after Delete: %v", err)
	}
	if !p.IsZero() {
		t.Errorf("Load after Delete = %s, want an empty position", p)
	}
	streams, err := other.List(ctx)
	if err != nil {
		t.Fatalf("List after Delete: %v", err)
	}
	if slices.Contains(streams, "orders") {
		t.Errorf("List after Delete = %v, still contains orders", streams)
	}
	if _, err := other.Hold(ctx, "orders"); !errors.Is(err, offsets.ErrHeld) {
		t.Errorf("Hold by the other tracker after Delete = %v, want an error wrapping ErrHeld", err)
	}
}

func TestBlobCloseReleasesHold(t *testing.T) {
	settings := blobSettings(t)
	first, err := offsets.OpenBlob(context.Background(), &settings)
	if err != nil {
		t.Fatalf("OpenBlob: %v", err)
	}
	if _, err := first.Hold(context.Background(), "orders"); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	second := openBlobTracker(t, settings)
	holdStream(t, second, "orders")
}

func TestBlobHoldRenewsLease(t *testing.T) {
	settings := blobSettings(t)
	holder, other := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	hold := holdStream(t, holder, "orders")
	// Past the lease duration the lease is still there only if it was
	// renewed, so the other tracker stays out all along.
	deadline := time.Now().Add(blobLeaseSeconds*time.Second + 5*time.Second)
	for time.Now().Before(deadline) {
		if _, err := other.Hold(ctx, "orders"); !errors.Is(err, offsets.ErrHeld) {
			t.Fatalf("Hold by the other tracker = %v, want an error wrapping ErrHeld", err)
		}
		select {
		case <-hold.Lost():
			t.Fatal("Lost is closed while the lease is renewed")
		case <-time.After(time.Second):
		}
	}
	if err := holder.Save(ctx, "orders", blobPosition(700)); err != nil {
		t.Errorf("Save after renewals: %v", err)
	}
}

func TestBlobBrokenLeaseClosesLost(t *testing.T) {
	settings := blobSettings(t)
	holder, other := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	hold := holdStream(t, holder, "orders")
	name, err := holder.BlobName("orders")
	if err != nil {
		t.Fatal(err)
	}
	breakLease(t, settings, name)

	// The next renewal, a third of the lease duration later, finds the
	// lease broken.
	timeout := blobLeaseSeconds*time.Second + 10*time.Second
	select {
	case <-hold.Lost():
	case <-time.After(timeout):
		t.Fatalf("Lost was not closed within %s after the lease was broken", timeout)
	}

	if err := holder.Save(ctx, "orders", blobPosition(800)); err == nil {
		t.Error("Save after the lease was lost succeeded, want an error")
	} else if !strings.Contains(err.Error(), "lease") {
		t.Errorf("Save after the lease was lost = %q, want an error about the lease", err)
	}
	holdStream(t, other, "orders")
	if err := hold.Release(ctx); err != nil {
		t.Errorf("Release of a lost hold: %v, want no error", err)
	}
}

func TestBlobWrongAccountKey(t *testing.T) {
	settings := blobSettings(t)
	// A valid base64 key that is not the account's.
	settings.Key = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ=="
	tracker, err := offsets.OpenBlob(context.Background(), &settings)
	if err == nil {
		tracker.Close()
		t.Fatal("OpenBlob with a wrong key succeeded, want an error")
	}
	for _, part := range []string{azuriteAccount, "rejected the credentials", "SLUICE_OFFSETS_AZBLOB_KEY", "403"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("OpenBlob error %q does not contain %q", err, part)
		}
	}
	if strings.Contains(err.Error(), settings.Key) {
		t.Errorf("OpenBlob error %q shows the key", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("OpenBlob error %q spans several lines, want one", err)
	}
}

func TestBlobUnreachableEndpoint(t *testing.T) {
	settings := blobSettings(t)
	// Nothing listens on port 1 of the loopback address.
	settings.Endpoint = "http://127.0.0.1:1/" + azuriteAccount
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tracker, err := offsets.OpenBlob(ctx, &settings)
	if err == nil {
		tracker.Close()
		t.Fatal("OpenBlob with an unreachable endpoint succeeded, want an error")
	}
	for _, part := range []string{"create container", "reachable", "SLUICE_OFFSETS_AZBLOB_ENDPOINT"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("OpenBlob error %q does not contain %q", err, part)
		}
	}
}

func TestBlobETagConflict(t *testing.T) {
	settings := blobSettings(t)
	first, second := openBlobTracker(t, settings), openBlobTracker(t, settings)
	ctx := context.Background()

	// Both find no position; the second creation is rejected.
	loadPos(t, first, "orders")
	loadPos(t, second, "orders")
	if err := first.Save(ctx, "orders", blobPosition(900)); err != nil {
		t.Fatalf("first Save: %v", err)
	}
	err := second.Save(ctx, "orders", blobPosition(901))
	if !errors.Is(err, offsets.ErrConflict) {
		t.Fatalf("second Save of a new stream = %v, want an error wrapping ErrConflict", err)
	}
	for _, part := range []string{"created by another writer", "was not saved", "SLUICE_STREAM_ID=orders"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("second Save error %q does not contain %q", err, part)
		}
	}

	// Both read the same position; the writer that read it last is rejected.
	loadPos(t, second, "orders")
	if err := first.Save(ctx, "orders", blobPosition(902)); err != nil {
		t.Fatalf("first Save of a newer position: %v", err)
	}
	err = second.Save(ctx, "orders", blobPosition(903))
	if !errors.Is(err, offsets.ErrConflict) {
		t.Fatalf("Save after another writer's Save = %v, want an error wrapping ErrConflict", err)
	}
	if !strings.Contains(err.Error(), "changed after this tracker last read or wrote it") {
		t.Errorf("Save error %q does not say that the blob changed", err)
	}
	if pos := loadPos(t, first, "orders"); pos != 902 {
		t.Errorf("Load after the rejected Save = pos %d, want 902", pos)
	}

	// After loading again, the second writer may save.
	if pos := loadPos(t, second, "orders"); pos != 902 {
		t.Errorf("Load by the second writer = pos %d, want 902", pos)
	}
	if err := second.Save(ctx, "orders", blobPosition(904)); err != nil {
		t.Errorf("Save after loading again: %v", err)
	}
}

package offsets

import (
	"errors"
	"strings"
	"testing"
)

func TestPositionBlobName(t *testing.T) {
	cases := []struct {
		prefix, stream, want string
	}{
		{"positions/", "orders", "positions/orders.json"},
		{"", "orders", "orders.json"},
		{"prod/eu-", "shop.orders_v2", "prod/eu-shop.orders_v2.json"},
		{"positions/", ".hidden", "positions/.hidden.json"},
	}
	for _, tc := range cases {
		got, err := positionBlobName(tc.prefix, tc.stream)
		if err != nil {
			t.Errorf("positionBlobName(%q, %q): %v", tc.prefix, tc.stream, err)
			continue
		}
		if got != tc.want {
			t.Errorf("positionBlobName(%q, %q) = %q, want %q", tc.prefix, tc.stream, got, tc.want)
		}
		stream, ok := streamOfBlob(tc.prefix, got)
		if !ok || stream != tc.stream {
			t.Errorf("streamOfBlob(%q, %q) = %q, %v, want %q, true", tc.prefix, got, stream, ok, tc.stream)
		}
	}
}

func TestPositionBlobNameRejectsInvalidStream(t *testing.T) {
	for _, stream := range []string{"", ".", "..", "a/b", "../escape", "white space", "a?b", "ä"} {
		if name, err := positionBlobName("positions/", stream); err == nil {
			t.Errorf("positionBlobName(%q) = %q, want an error", stream, name)
		}
	}
}

func TestStreamOfBlobSkipsOtherBlobs(t *testing.T) {
	for _, name := range []string{
		"positions/orders.txt",
		"positions/.sluice-check-0123456789abcdef",
		"positions/nested/orders.json",
		"positions/.json",
		"positions/...json",
		"other/orders.json",
		"positions/orders.json.bak",
	} {
		if stream, ok := streamOfBlob("positions/", name); ok {
			t.Errorf("streamOfBlob(%q) = %q, want no stream", name, stream)
		}
	}
}

func TestParsePositionBlob(t *testing.T) {
	saved := samplePosition()
	saved.Stream = "orders"
	data, err := saved.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePositionBlob(data, "orders")
	if err != nil {
		t.Fatalf("parsePositionBlob: %v", err)
	}
	if got.File != saved.File || got.Pos != saved.Pos || got.Stream != "orders" {
		t.Errorf("parsePositionBlob = %+v, want %+v", got, saved)
	}
}

func TestParsePositionBlobPlaceholder(t *testing.T) {
	data, err := placeholderBlob("orders")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parsePositionBlob(data, "orders")
	if err != nil {
		t.Fatalf("parsePositionBlob of a placeholder: %v", err)
	}
	if !got.IsZero() {
		t.Errorf("parsePositionBlob of a placeholder = %s, want an empty position", got)
	}
}

func TestParsePositionBlobRejects(t *testing.T) {
	otherStream := samplePosition()
	otherStream.Stream = "payments"
	otherData, err := otherStream.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	otherPlaceholder, err := placeholderBlob("payments")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"position of another stream", otherData, `belongs to stream "payments"`},
		{"placeholder of another stream", otherPlaceholder, `belongs to stream "payments"`},
		{"empty object", []byte(`{}`), "binlog file or offset missing"},
		{"empty blob", []byte(``), "invalid stored position"},
		{"not JSON", []byte(`mysql-bin.000001:4`), "invalid stored position"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parsePositionBlob(tc.data, "orders")
			if err == nil {
				t.Fatal("parsePositionBlob succeeded, want an error")
			}
			if !errors.Is(err, ErrInvalidPosition) {
				t.Errorf("error %v does not wrap ErrInvalidPosition", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestIsPlaceholderIgnoresCase(t *testing.T) {
	value := "true"
	for _, name := range []string{"sluiceplaceholder", "Sluiceplaceholder", "SLUICEPLACEHOLDER"} {
		if !isPlaceholder(map[string]*string{name: &value}) {
			t.Errorf("isPlaceholder with metadata %q = false, want true", name)
		}
	}
	if isPlaceholder(map[string]*string{"other": &value}) {
		t.Error("isPlaceholder with other metadata = true, want false")
	}
}

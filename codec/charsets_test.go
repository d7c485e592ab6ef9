package codec

import (
	"encoding/hex"
	"testing"
)

func TestDecodeCharset(t *testing.T) {
	cases := []struct {
		charset string
		hex     string
		want    string
	}{
		{"cp1251", "cff0e8e2e5f2", "Привет"},
		{"koi8r", "f0d2c9d7c5d4", "Привет"},
		{"latin2", "b3f3646bb1", "łódką"},
		{"sjis", "93fa967b", "日本"},
		{"ujis", "c6fccbdc", "日本"},
		{"gbk", "d6d0cec4", "中文"},
		{"big5", "a4a4a4e5", "中文"},
		{"euckr", "c7d1b1b9", "한국"},
		{"ucs2", "00e9", "é"},
		{"utf16", "d83dde00", "😀"},
		{"utf16le", "3dd800de", "😀"},
		{"utf32", "0001f600", "😀"},
	}
	for _, tc := range cases {
		raw, err := hex.DecodeString(tc.hex)
		if err != nil {
			t.Fatal(err)
		}
		got, known, err := decodeCharset(tc.charset, raw)
		if err != nil || !known {
			t.Errorf("decodeCharset(%s, %s) = known %v, error %v", tc.charset, tc.hex, known, err)
			continue
		}
		if got != tc.want {
			t.Errorf("decodeCharset(%s, %s) = %q, want %q", tc.charset, tc.hex, got, tc.want)
		}
	}
	if _, known, _ := decodeCharset("swe7", []byte("x")); known {
		t.Errorf("decodeCharset(swe7) claims to know swe7")
	}
}

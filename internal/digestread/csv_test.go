package digestread

import (
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
)

func TestUnescapeCSV(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a%2Cb", "a,b"},
		{"a%2cb", "a,b"},
		{"100%25", "100%"},
		{"%0A%0D%0a%0d", "\n\r\n\r"},
		{"%252C", "%2C"},                 // an escaped '%' followed by text that looks like an escape
		{"k=a%26b%3Dc&", "k=a%26b%3Dc&"}, // baggage escapes are not the CSV layer's
		{"50%", "50%"},
		{"%2", "%2"},
		{"%", "%"},
		{"%zz", "%zz"},
		{"%00%1B[31m%7F%7f%09", "\x00\x1b[31m\x7f\x7f\t"}, // control characters and DEL
		{"%20%41%80%C3%A9", "%20%41%80%C3%A9"},            // nothing the writer escapes
	} {
		if got := unescapeCSV(tc.in); got != tc.want {
			t.Errorf("unescapeCSV(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestParseLineCSVUnescapesEveryField: the writer escapes '%', ',', CR and LF in every column, not
// only in baggage.
func TestParseLineCSVUnescapesEveryField(t *testing.T) {
	line := `2024-05-01 12:00:00.280,my%2Capp,0ad1,0.1,server,200,t%0Ah,3ms,/a%2Cb?x=1%25,GET,0,64,line1%0D%0Aline2,s=1%2C2&,note=a%2Cb&`
	r, err := ParseLine([]byte(line), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		layout.FieldLocalApp: "my,app", layout.FieldThreadName: "t\nh", layout.FieldRequestURL: "/a,b?x=1%",
		layout.FieldError: "line1\r\nline2", layout.FieldSysBaggage: "s=1,2&", layout.FieldBizBaggage: "note=a,b&",
	} {
		if got, _ := r.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.App != "my,app" || r.URL != "/a,b?x=1%" {
		t.Errorf("record %+v", r)
	}
}

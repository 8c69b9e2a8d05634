package promdigest_test

import (
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/promdigest"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// TestRoutesNotURLs: a real net/http server under tracehttp.Middleware, with Go's ServeMux patterns,
// called by a traced client: the server's series are labelled by route template — 40 order ids are
// one route — with the status class and result of each request, and no label holds a URL or an id;
// the route is the stat lines' key for the same spans.
func TestRoutesNotURLs(t *testing.T) {
	m := promdigest.New()
	p := newPipeline(t, m, "shop")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, _ := strconv.Atoi(r.PathValue("id")); id > 20 {
			http.NotFound(w, r)
		}
	})
	posts := 0
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if posts++; posts%4 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(tracehttp.Middleware(p.tr)(mux))
	defer srv.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: tracehttp.NewTransport(p.tr, transport)}
	do := func(method, path string) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for id := 1; id <= 40; id++ {
		do(http.MethodGet, fmt.Sprintf("/orders/%d?page=%d", id, id))
	}
	for i := 0; i < 8; i++ {
		do(http.MethodPost, "/orders")
	}
	p.r.Flush()

	fams := scrape(t, p.url, acceptText)
	server := map[string]float64{}
	for _, mc := range fams["tracemdc_http_requests_total"].GetMetric() {
		l := labelsOf(mc)
		if strings.Contains(l, "log_type=http-server") {
			server[l] = mc.GetCounter().GetValue()
			if strings.Contains(l, srv.URL) || regexp.MustCompile(`/orders/\d`).MatchString(l) {
				t.Fatalf("a URL in the labels of a server series: %s", l)
			}
		}
	}
	want := map[string]float64{
		"app=shop,code=2xx,load_test=false,log_type=http-server,method=GET,result=success,route=/orders/{id}": 20,
		"app=shop,code=4xx,load_test=false,log_type=http-server,method=GET,result=failure,route=/orders/{id}": 20,
		"app=shop,code=2xx,load_test=false,log_type=http-server,method=POST,result=success,route=/orders":     6,
		"app=shop,code=5xx,load_test=false,log_type=http-server,method=POST,result=failure,route=/orders":     2,
	}
	if !maps.Equal(server, want) {
		t.Fatalf("server series\n%v\nwant\n%v", server, want)
	}
	if err := p.r.Close(); err != nil {
		t.Fatal(err)
	}
	stat := readFile(t, p.dir, "http-server-stat.log")
	for _, route := range []string{`"request.url":"/orders/{id}"`, `"request.url":"/orders"`} {
		if !strings.Contains(stat, route) {
			t.Fatalf("stat lines without %s:\n%s", route, stat)
		}
	}
}

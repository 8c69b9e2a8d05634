package digestread_test

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
)

const exampleLog = `{"time":"2024-05-01 12:00:00.400","local.app":"frontend","traceId":"0ad1348f1714564800000100012345","spanId":"0","span.kind":"server","result.code":"500","current.thread.name":"main","time.cost.milliseconds":"400ms","request.url":"/checkout","method":"POST","req.size.bytes":0,"resp.size.bytes":12,"error":"","sys.baggage":"","biz.baggage":""}
{"time":"2024-05-01 12:00:00.380","local.app":"frontend","traceId":"0ad1348f1714564800000100012345","spanId":"0.1","span.kind":"client","result.code":"500","current.thread.name":"main","time.cost.milliseconds":"300ms","request.url":"http://orders/api","method":"POST","req.size.bytes":0,"resp.size.bytes":12,"remote.app":"orders","sys.baggage":"","biz.baggage":""}
2024-05-01 12:00:00.350,orders,0ad1348f1714564800000100012345,0.1.1,server,500,main,250ms,/api,POST,0,12,out of stock,,
{"time":"2024-05-01 12:00:00.100","local.app":"frontend","traceId":"0ad1348f1714564800000100012345","spanId":"0.2","span.kind":"client","result.code":"00","current.thread.name":"main","time.cost.milliseconds":"50ms","operation":"GET cart","sys.baggage":"","biz.baggage":""}
this line is not a digest line
`

func ExampleParseLine() {
	r, err := digestread.ParseLine([]byte(`2024-05-01 12:00:00.350,orders,0ad1348f1714564800000100012345,0.1.1,server,500,main,250ms,/api,POST,0,12,out of stock,,`), time.UTC)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.App, r.SpanID, r.Kind, r.ResultCode, r.Cost, r.URL, r.Success())
	// Output: orders 0.1.1 server 500 250ms /api false
}

func ExampleScanRecords() {
	opts := digestread.ReadOptions{Location: time.UTC, Filter: &digestread.Filter{Errors: true}}
	src := digestread.DigestFile{LogType: "spring-mvc"}
	st, _ := digestread.ScanRecords(strings.NewReader(exampleLog), src, opts, func(r *digestread.Record) error {
		fmt.Println(r.SpanID, r.ResultCode, r.URL)
		return nil
	})
	fmt.Printf("%d records, %d malformed\n", st.Records, st.Malformed)
	// Output:
	// 0 500 /checkout
	// 0.1 500 http://orders/api
	// 0.1.1 500 /api
	// 4 records, 1 malformed
}

func ExampleRenderTree() {
	var recs []*digestread.Record
	_, _ = digestread.ScanRecords(strings.NewReader(exampleLog), digestread.DigestFile{LogType: "mvc"},
		digestread.ReadOptions{Location: time.UTC}, func(r *digestread.Record) error {
			recs = append(recs, r)
			return nil
		})
	_ = digestread.RenderTree(os.Stdout, digestread.BuildTree(recs), digestread.RenderOptions{Width: 20})
	// Output:
	// trace 0ad1348f1714564800000100012345  spans=4  errors=3  start=2024-05-01 12:00:00.000  duration=400ms
	// 0          frontend  mvc  server  500  400ms  |xxxxxxxxxxxxxxxxxxxx|  POST /checkout  ERROR
	//   0.1      frontend  mvc  client  500  300ms  |    xxxxxxxxxxxxxxx |  POST http://orders/api  ERROR
	//     0.1.1  orders    mvc  server  500  250ms  |     xxxxxxxxxxxxx  |  POST /api  ERROR out of stock
	//   0.2      frontend  mvc  client  00    50ms  |  ===               |  GET cart
}

func ExampleRenderTimeline() {
	var recs []*digestread.Record
	_, _ = digestread.ScanRecords(strings.NewReader(exampleLog), digestread.DigestFile{LogType: "mvc"},
		digestread.ReadOptions{Location: time.UTC, Filter: &digestread.Filter{TraceID: "0ad1348f1714564800000100012345"}},
		func(r *digestread.Record) error {
			recs = append(recs, r)
			return nil
		})
	business := `{"time":"2024-05-01T12:00:00.120Z","level":"INFO","msg":"reserving","mdc":{"SOFA-TraceId":"0ad1348f1714564800000100012345","SOFA-SpanId":"0.1.1"}}
{"time":"2024-05-01T12:00:00.130Z","level":"INFO","msg":"other request","traceId":"0ad1348f1714564800000100099999"}
`
	var logs []digestread.LogLine
	_, _ = digestread.ScanLogs(strings.NewReader(business), "orders.log", "0ad1348f1714564800000100012345",
		digestread.ReadOptions{Location: time.UTC}, func(l digestread.LogLine) error {
			logs = append(logs, l)
			return nil
		})
	_ = digestread.RenderTimeline(os.Stdout, digestread.BuildTree(recs), logs, digestread.RenderOptions{})
	// Output:
	// timeline 0ad1348f1714564800000100012345  spans=4  log lines=1
	// 2024-05-01 12:00:00.000  span          [0] frontend server 500 400ms POST /checkout ERROR
	// 2024-05-01 12:00:00.050  span          [0.2] frontend client 00 50ms GET cart
	// 2024-05-01 12:00:00.080  span          [0.1] frontend client 500 300ms POST http://orders/api ERROR
	// 2024-05-01 12:00:00.100  span          [0.1.1] orders server 500 250ms POST /api ERROR out of stock
	// 2024-05-01 12:00:00.120  orders.log:1  [0.1.1] INFO reserving
}

func ExampleCompareSpanIDs() {
	fmt.Println(digestread.CompareSpanIDs("0.9", "0.10"), digestread.CompareSpanIDs("0.1.1", "0.1"))
	// Output: -1 1
}

func ExampleMergeByTime() {
	// Two files, each in time order (as a digest writer appends them), read one record at a time.
	frontend := `2024-05-01 12:00:00.100,frontend,0ad1348f1714564800000100012345,0,server,200,main,90ms,/checkout,GET,0,0,,,
2024-05-01 12:00:00.300,frontend,0ad1348f1714564801000100012345,0,server,502,main,60ms,/checkout,GET,0,0,,,
`
	orders := `2024-05-01 12:00:00.080,orders,0ad1348f1714564800000100012345,0.1.1,server,200,main,50ms,/orders,POST,0,0,,,
2024-05-01 12:00:00.290,orders,0ad1348f1714564801000100012345,0.1.1,server,502,main,40ms,/orders,POST,0,0,,,
`
	stream := func(text, logType string) iter.Seq[*digestread.Record] {
		return func(yield func(*digestread.Record) bool) {
			stop := errors.New("stop")
			_, _ = digestread.ScanRecords(strings.NewReader(text), digestread.DigestFile{LogType: logType},
				digestread.ReadOptions{Location: time.UTC}, func(r *digestread.Record) error {
					if !yield(r) {
						return stop
					}
					return nil
				})
		}
	}
	for r := range digestread.MergeByTime(stream(frontend, "http-server"), stream(orders, "http-server")) {
		fmt.Println(r.Time.Format(layout.TimeLayout), r.App, r.ResultCode)
	}
	// Output:
	// 2024-05-01 12:00:00.080 orders 200
	// 2024-05-01 12:00:00.100 frontend 200
	// 2024-05-01 12:00:00.290 orders 502
	// 2024-05-01 12:00:00.300 frontend 502
}

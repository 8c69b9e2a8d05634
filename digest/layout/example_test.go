package layout_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// A program that reads digest lines takes the names and rules from layout, as tracetail does: here
// it finds a Spring MVC digest file and judges one of its lines by the writer's success rule.
func Example() {
	path := filepath.Join(layout.DigestDir("/var/log/shop"), layout.DigestFileName(layout.LogTypeSpringMVC))
	fmt.Println(path)

	line := `{"time":"2024-05-01 12:00:00.015","local.app":"shop","traceId":"0ad1348f1403169275002100356696",` +
		`"spanId":"0","span.kind":"server","result.code":"302","request.url":"http://shop/cart","biz.baggage":"mark=T&"}`
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		panic(err)
	}
	code := m[layout.FieldResultCode].(string)
	fmt.Println(m[layout.FieldRequestURL], code, "success:", layout.HTTPSuccess(code, false),
		"load test:", layout.LoadTestMark(m[layout.FieldBizBaggage].(string)))
	// Output:
	// /var/log/shop/tracelog/spring-mvc-digest.log
	// http://shop/cart 302 success: true load test: true
}

package tracetree_test

import (
	"fmt"
	"os"
	"time"

	"github.com/tracemdc/tracemdc/tracetree"
)

// Write prints one trace found in digest files as `tracetail -tree` does: here the trace of the
// command's test fixtures, three services calling one another, one of them failing.
func ExampleWrite() {
	err := tracetree.Write(os.Stdout, "0ad1348f1714564800000100012345",
		[]string{"../cmd/tracetail/testdata/logs/tracelog"},
		tracetree.Options{Location: time.UTC, Width: 20})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// trace 0ad1348f1714564800000100012345  spans=8  errors=6  start=2024-05-01 12:00:00.000  duration=400ms
	// 0                  frontend   spring-mvc     server  500  400ms  |xxxxxxxxxxxxxxxxxxxx|  POST /checkout  ERROR orders failed
	//   0.1              frontend   httpclient     client  500  320ms  |   xxxxxxxxxxxxxxxx |  POST http://127.0.0.1:8081/api/orders  ERROR
	//     0.1.1          orders     spring-mvc     server  500  290ms  |   xxxxxxxxxxxxxxx  |  POST /api/orders  ERROR inventory said no
	//       0.1.1.1      orders     httpclient     client  503  200ms  |     xxxxxxxxxx     |  GET http://127.0.0.1:8082/api/stock  ERROR
	//         0.1.1.1.1  inventory  inventory-mvc  server  503  150ms  |      xxxxxxxx      |  GET /api/stock  ERROR stock service down
	//   0.2              frontend   redis          client  00    10ms  |   =                |  GET cart:42
	//   0.9              frontend   redis          client  03    30ms  |                  xx|  SET order:7  ERROR
	//   0.10             frontend   redis          client  00     5ms  |                   =|  DEL cart:42
}

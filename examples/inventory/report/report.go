// Package report renders warehouse reports.
package report

import (
	"fmt"
	"strings"

	"example.com/inventory/stock"
)

// ReorderThreshold is the quantity under which an item is flagged.
const ReorderThreshold = 5

// Render lists every item, flagging the ones to reorder.
func Render(w *stock.Warehouse) string {
	var b strings.Builder
	for _, item := range w.Items() {
		flag := ""
		if item.Low(ReorderThreshold) {
			flag = " (reorder)"
		}
		fmt.Fprintf(&b, "%s %-12s %4d%s\n", item.SKU, item.Name, item.Quantity, flag)
	}
	return b.String()
}

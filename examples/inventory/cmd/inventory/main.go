package main

import (
	"fmt"

	"example.com/inventory/report"
	"example.com/inventory/stock"
)

func main() {
	w := stock.NewWarehouse()
	w.Receive("TEA-1", "Green tea", 40)
	w.Receive("MUG-1", "Mug", 3)
	if err := w.Take("TEA-1", 12); err != nil {
		panic(err)
	}
	fmt.Print(report.Render(w))
}

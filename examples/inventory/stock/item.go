// Package stock tracks what the warehouse holds.
package stock

// Item is one product line in the warehouse.
type Item struct {
	SKU      string
	Name     string
	Quantity int
}

// Low reports whether the item should be reordered.
func (i Item) Low(threshold int) bool {
	return i.Quantity < threshold
}

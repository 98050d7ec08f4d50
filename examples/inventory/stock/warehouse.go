package stock

import (
	"errors"
	"sort"
)

// ErrUnknownSKU is returned for a SKU the warehouse does not stock.
var ErrUnknownSKU = errors.New("unknown SKU")

// Warehouse holds items by SKU.
type Warehouse struct {
	items map[string]*Item
}

// NewWarehouse returns an empty warehouse.
func NewWarehouse() *Warehouse {
	return &Warehouse{items: map[string]*Item{}}
}

// Receive adds quantity to an item, creating it when new.
func (w *Warehouse) Receive(sku, name string, quantity int) {
	if item, ok := w.items[sku]; ok {
		item.Quantity += quantity
		return
	}
	w.items[sku] = &Item{SKU: sku, Name: name, Quantity: quantity}
}

// Take removes quantity from an item.
func (w *Warehouse) Take(sku string, quantity int) error {
	item, ok := w.items[sku]
	if !ok {
		return ErrUnknownSKU
	}
	item.Quantity -= quantity
	return nil
}

// Items returns the items sorted by SKU.
func (w *Warehouse) Items() []Item {
	out := make([]Item, 0, len(w.items))
	for _, item := range w.items {
		out = append(out, *item)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].SKU < out[b].SKU })
	return out
}

package scheduler

import "container/heap"

// keyedHeap is a priority queue of items addressable by key, so an item can
// be updated or removed in O(log n) when the pod it holds changes.
type keyedHeap[T any] struct {
	h heapData[T]
}

func newKeyedHeap[T any](key func(T) string, less func(a, b T) bool) *keyedHeap[T] {
	return &keyedHeap[T]{h: heapData[T]{index: map[string]int{}, key: key, less: less}}
}

// Upsert adds item, or replaces the item with its key and restores order.
func (k *keyedHeap[T]) Upsert(item T) {
	if i, ok := k.h.index[k.h.key(item)]; ok {
		k.h.items[i] = item
		heap.Fix(&k.h, i)
		return
	}
	heap.Push(&k.h, item)
}

// Get returns the item with key.
func (k *keyedHeap[T]) Get(key string) (T, bool) {
	if i, ok := k.h.index[key]; ok {
		return k.h.items[i], true
	}
	var zero T
	return zero, false
}

// Delete removes the item with key and reports whether it was there.
func (k *keyedHeap[T]) Delete(key string) bool {
	i, ok := k.h.index[key]
	if ok {
		heap.Remove(&k.h, i)
	}
	return ok
}

// Peek returns the first item without removing it.
func (k *keyedHeap[T]) Peek() (T, bool) {
	if len(k.h.items) == 0 {
		var zero T
		return zero, false
	}
	return k.h.items[0], true
}

// Pop removes and returns the first item.
func (k *keyedHeap[T]) Pop() (T, bool) {
	if len(k.h.items) == 0 {
		var zero T
		return zero, false
	}
	return heap.Pop(&k.h).(T), true
}

func (k *keyedHeap[T]) Len() int { return len(k.h.items) }

// heapData implements heap.Interface; index maps a key to its position.
type heapData[T any] struct {
	items []T
	index map[string]int
	key   func(T) string
	less  func(a, b T) bool
}

func (h *heapData[T]) Len() int           { return len(h.items) }
func (h *heapData[T]) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *heapData[T]) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.index[h.key(h.items[i])] = i
	h.index[h.key(h.items[j])] = j
}
func (h *heapData[T]) Push(x any) {
	item := x.(T)
	h.index[h.key(item)] = len(h.items)
	h.items = append(h.items, item)
}
func (h *heapData[T]) Pop() any {
	n := len(h.items) - 1
	item := h.items[n]
	var zero T
	h.items[n] = zero
	h.items = h.items[:n]
	delete(h.index, h.key(item))
	return item
}

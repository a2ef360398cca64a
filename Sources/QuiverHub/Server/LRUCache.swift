/// A fixed number of values by key; adding one more evicts the least recently used.
///
/// Lookups and updates are O(1); eviction scans the entries (caches here hold tens of them).
struct LRUCache<Key: Hashable, Value> {
    let capacity: Int
    private var entries: [Key: (value: Value, used: UInt64)] = [:]
    private var clock: UInt64 = 0

    init(capacity: Int) {
        precondition(capacity > 0, "LRUCache needs room for one entry")
        self.capacity = capacity
    }

    var count: Int { entries.count }

    var keys: Dictionary<Key, (value: Value, used: UInt64)>.Keys { entries.keys }

    /// The value for `key`, now the most recently used.
    mutating func value(for key: Key) -> Value? {
        guard let entry = entries[key] else { return nil }
        clock += 1
        entries[key] = (entry.value, clock)
        return entry.value
    }

    mutating func insert(_ value: Value, for key: Key) {
        clock += 1
        if entries[key] == nil, entries.count >= capacity,
           let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key
        {
            entries.removeValue(forKey: oldest)
        }
        entries[key] = (value, clock)
    }

    mutating func removeAll() { entries.removeAll() }
}

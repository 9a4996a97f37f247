// mac_table.cc: the FDB as an open-addressing hash table (see mac_table.h for the contract).
//
// Thread affinity: owned by one datapath shard; never locked.
// Invariants:
//  - size_ <= max_entries <= capacity_ / 2: a new key is inserted only below max_entries, so at
//    least half the slots are empty and every probe ends at an empty slot.
//  - No tombstones: every slot from a key's home slot up to the key's own slot is occupied, so a
//    probe may stop at the first empty slot. EraseAt() keeps this by shifting later entries back.
//  - An aged entry keeps its slot until its key is learned again (in the same slot) or a sweep
//    (Expire(), or Learn() on a full table) or Forget() removes it; Lookup() and ForEach() hide
//    it, so there is no timer per entry.
//  - Nothing here allocates after the constructor.

#include "vswitchd/core/mac_table.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <random>

#include "common/check.h"

namespace vdemesh::core {
namespace {

constexpr std::size_t kMinCapacity = 16;

// The murmur3 64-bit finalizer: every input bit affects every output bit, so MACs from one
// vendor prefix (which differ only in their low bytes) still spread over the whole table.
constexpr std::uint64_t Mix64(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t RandomSeed() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32) ^ rd();
}

}  // namespace

MacTable::MacTable(Options options)
    : options_(options),
      capacity_([&] {
        // Guards the doubling and std::bit_ceil below against overflow.
        VDEMESH_CHECK(options.max_entries <= std::numeric_limits<std::size_t>::max() / 4);
        return std::bit_ceil(std::max(kMinCapacity, 2 * options.max_entries));
      }()),
      slots_(std::make_unique<Slot[]>(capacity_)),
      seed_(RandomSeed()) {}

MacTable::~MacTable() = default;

LearnResult MacTable::Learn(std::uint16_t vlan, const MacAddress& mac, Location where,
                            Clock::time_point now) noexcept {
  Probe probe = Find(vlan, mac);
  if (probe.found) {
    Entry& e = slots_[probe.slot].entry;
    LearnResult result = LearnResult::kLearned;  // an aged entry is learned afresh
    if (IsLive(probe.slot, now)) {
      result = e.where == where ? LearnResult::kRefreshed : LearnResult::kMoved;
    }
    e.where = where;
    e.last_seen = now;
    return result;
  }
  if (size_ >= options_.max_entries) {
    // Full of occupied slots, but some may have aged out since the last sweep. Sweeping is
    // O(capacity), so during a flood of new MACs it runs at most once per interval.
    if (now < next_sweep_ || Expire(now) == 0) return LearnResult::kTableFull;
    probe = Find(vlan, mac);  // the sweep shifted entries, so the free slot may have moved
  }
  slots_[probe.slot] = Slot{Entry{vlan, mac, where, now}, true};
  ++size_;
  return LearnResult::kLearned;
}

std::optional<Location> MacTable::Lookup(std::uint16_t vlan, const MacAddress& mac,
                                         Clock::time_point now) const noexcept {
  const Probe probe = Find(vlan, mac);
  if (!probe.found || !IsLive(probe.slot, now)) return std::nullopt;
  return slots_[probe.slot].entry.where;
}

std::size_t MacTable::Expire(Clock::time_point now) noexcept {
  next_sweep_ = now + kFullTableSweepInterval;
  return RemoveIf([&](const Entry& e) { return now - e.last_seen >= options_.aging; });
}

std::size_t MacTable::ExpireSome(Clock::time_point now, std::size_t slots) noexcept {
  // Unlike RemoveIf() this may start inside a cluster, so an entry that EraseAt() shifts back
  // behind the cursor waits for the next round; every round still removes what it meets.
  const std::size_t mask = capacity_ - 1;
  std::size_t removed = 0;
  // Each pass either steps the cursor or removes an entry: < slots + size_ passes.
  for (std::size_t stepped = 0; stepped < slots && size_ > 0;) {
    const Slot& s = slots_[sweep_cursor_];
    if (s.used && now - s.entry.last_seen >= options_.aging) {
      EraseAt(sweep_cursor_);
      ++removed;
      continue;
    }
    sweep_cursor_ = (sweep_cursor_ + 1) & mask;
    ++stepped;
  }
  return removed;
}

std::size_t MacTable::Forget(Location where) noexcept {
  return RemoveIf([&](const Entry& e) { return e.where == where; });
}

void MacTable::Clear() noexcept {
  for (std::size_t i = 0; i < capacity_; ++i) slots_[i].used = false;
  size_ = 0;
}

bool MacTable::IsLive(std::size_t i, Clock::time_point now) const noexcept {
  return slots_[i].used && now - slots_[i].entry.last_seen < options_.aging;
}

std::size_t MacTable::HomeSlot(std::uint16_t vlan, const MacAddress& mac) const noexcept {
  // The key packs into 64 bits without loss (16-bit VLAN above the 48-bit MAC). XORing the
  // secret seed in before the mix makes which keys share a slot differ per table. It is not a
  // keyed PRF like SipHash, but it defeats a precomputed flood, and max_entries bounds the rest.
  const std::uint64_t key = (std::uint64_t{vlan} << 48) | mac.AsU64();
  return static_cast<std::size_t>(Mix64(key ^ seed_)) & (capacity_ - 1);
}

MacTable::Probe MacTable::Find(std::uint16_t vlan, const MacAddress& mac) const noexcept {
  // Terminates because at least half the slots are empty (see the invariants above).
  for (std::size_t i = HomeSlot(vlan, mac);; i = (i + 1) & (capacity_ - 1)) {
    const Slot& s = slots_[i];
    if (!s.used) return {i, false};
    if (s.entry.vlan == vlan && s.entry.mac == mac) return {i, true};
  }
}

void MacTable::EraseAt(std::size_t i) noexcept {
  // Backward-shift deletion (Knuth 6.4, Algorithm R): walk the rest of the cluster and move
  // back into the hole each entry whose home is not between the hole and the entry's slot;
  // such an entry's probe would otherwise stop at the hole and miss it.
  const std::size_t mask = capacity_ - 1;
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
    const std::size_t home = HomeSlot(slots_[j].entry.vlan, slots_[j].entry.mac);
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole].used = false;
  --size_;
}

template <typename Pred>
std::size_t MacTable::RemoveIf(Pred pred) noexcept {
  if (size_ == 0) return 0;
  // Start just after an empty slot, so the walk meets every cluster at its head. EraseAt() then
  // only moves entries from ahead of i into slots at or after i (never across the empty start),
  // so staying on i after a removal examines every entry once and none is skipped.
  const std::size_t mask = capacity_ - 1;
  std::size_t start = 0;
  while (slots_[start].used) ++start;
  std::size_t removed = 0;
  std::size_t i = (start + 1) & mask;
  // Each pass either steps i forward or removes an entry, so this runs < capacity_ + size_ times.
  for (std::size_t stepped = 1; stepped < capacity_;) {
    if (slots_[i].used && pred(static_cast<const Entry&>(slots_[i].entry))) {
      EraseAt(i);
      ++removed;
      continue;
    }
    i = (i + 1) & mask;
    ++stepped;
  }
  return removed;
}

}  // namespace vdemesh::core

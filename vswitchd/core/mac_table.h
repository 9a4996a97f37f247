// mac_table.h: the forwarding database (FDB) of one network, keyed by (VLAN, MAC).
//
// Thread affinity: owned by one datapath shard; never locked.
// Memory: all slots are allocated in the constructor; Learn() never allocates, so a flood of
// random source MACs cannot grow memory. When max_entries live entries exist, learning a new
// key is refused (kTableFull) and the caller counts it; existing entries still refresh.
// Time: `now` is always an argument; an entry older than `aging` is treated as absent by
// Lookup() and reclaimed by Learn() or Expire().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "vswitchd/core/mac_address.h"

namespace vdemesh::core {

using Clock = std::chrono::steady_clock;

// Where a MAC lives: a local port or a remote peer (issue #3). Compared as a whole.
struct Location {
  enum class Kind : std::uint8_t { kPort, kPeer };
  Kind kind = Kind::kPort;
  std::uint32_t index = 0;  // port number or peer index
  friend bool operator==(const Location&, const Location&) = default;
};

enum class LearnResult : std::uint8_t { kRefreshed, kLearned, kMoved, kTableFull };

class MacTable {
 public:
  struct Options {
    std::size_t max_entries = 65536;
    Clock::duration aging = std::chrono::seconds(300);
  };
  struct Entry {
    std::uint16_t vlan;
    MacAddress mac;
    Location where;
    Clock::time_point last_seen;
  };

  explicit MacTable(Options options);
  ~MacTable();
  MacTable(const MacTable&) = delete;
  MacTable& operator=(const MacTable&) = delete;

  // Records that (vlan, mac) was seen at `where` now. A MAC seen at a new location moves there
  // at once (VM migration): kMoved.
  LearnResult Learn(std::uint16_t vlan, const MacAddress& mac, Location where,
                    Clock::time_point now) noexcept;
  // The live location of (vlan, mac), or nullopt if unknown or aged out.
  std::optional<Location> Lookup(std::uint16_t vlan, const MacAddress& mac,
                                 Clock::time_point now) const noexcept;
  // Removes aged-out entries; returns how many.
  std::size_t Expire(Clock::time_point now) noexcept;
  // Removes aged-out entries among the next `slots` slots of a sweep that goes round the table
  // in steps; returns how many. For the periodic tick: a whole sweep of a big table (4 MiB at
  // the default bound) each second cost about 0.4 ms (perf samples) and evicted the packet path
  // from the caches.
  // Lookup() hides aged entries anyway; the sweep only gives their slots back.
  std::size_t ExpireSome(Clock::time_point now, std::size_t slots) noexcept;
  // Removes every entry at `where` (port closed, peer down); returns how many.
  std::size_t Forget(Location where) noexcept;
  // Removes everything.
  void Clear() noexcept;

  // Calls fn(const Entry&) for each live entry (control plane; not for the packet path).
  template <typename Fn>
  void ForEach(Clock::time_point now, Fn&& fn) const {
    for (std::size_t i = 0; i < capacity_; ++i)
      if (IsLive(i, now)) fn(static_cast<const Entry&>(slots_[i].entry));
  }

  std::size_t size() const noexcept { return size_; }
  std::size_t max_entries() const noexcept { return options_.max_entries; }
  Clock::duration aging() const noexcept { return options_.aging; }

 private:
  // Open addressing with linear probing and backward-shift deletion (no tombstones), so a
  // churn of short-lived MACs cannot degrade lookups. size_ <= max_entries <= capacity_ / 2, so
  // every probe ends at an empty slot.
  struct Slot {
    Entry entry;
    bool used = false;
  };
  // Where a probe for a key stopped: at the key's slot (found), or else at the empty slot that
  // ends the key's cluster, which is where the key would be inserted.
  struct Probe {
    std::size_t slot;
    bool found;
  };
  // A full table sweeps for aged entries at most this often, so a flood of new MACs against a
  // full table of live entries costs one probe per frame, not a scan of every slot.
  static constexpr Clock::duration kFullTableSweepInterval = std::chrono::seconds(1);

  bool IsLive(std::size_t i, Clock::time_point now) const noexcept;
  std::size_t HomeSlot(std::uint16_t vlan, const MacAddress& mac) const noexcept;
  Probe Find(std::uint16_t vlan, const MacAddress& mac) const noexcept;
  void EraseAt(std::size_t i) noexcept;
  template <typename Pred>
  std::size_t RemoveIf(Pred pred) noexcept;  // defined and used only in mac_table.cc

  Options options_;
  std::size_t capacity_;  // power of two, at least 2 * max_entries
  std::unique_ptr<Slot[]> slots_;
  std::size_t size_ = 0;          // occupied slots, aged or not
  std::size_t sweep_cursor_ = 0;  // where the next ExpireSome() looks
  // Per-table random key mixed into the hash, so colliding MACs cannot be computed in advance.
  std::uint64_t seed_;
  // Learn() on a full table may sweep once now >= next_sweep_; every Expire() pushes it back.
  Clock::time_point next_sweep_ = Clock::time_point::min();
};

}  // namespace vdemesh::core

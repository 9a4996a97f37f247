// mac_table_test.cc: unit tests for MacTable, the per-network FDB.
//
// Time is faked: every test passes explicit time points built from kT0, so aging is exact and
// nothing sleeps. The last tests run MacTable against a std::map model with random operations;
// their generator has a fixed seed so a failure reproduces. (The table's own hash seed is random,
// which is the point: its behaviour must not depend on the slot layout.)

#include "vswitchd/core/mac_table.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <tuple>
#include <utility>

namespace vdemesh::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1);

MacAddress Mac(std::uint64_t v) {
  MacAddress m;
  for (int i = 5; i >= 0; --i, v >>= 8) m.bytes[i] = static_cast<std::uint8_t>(v);
  return m;
}

Location Port(std::uint32_t n) { return {Location::Kind::kPort, n}; }
Location Peer(std::uint32_t n) { return {Location::Kind::kPeer, n}; }

MacTable::Options Opts(std::size_t max_entries, Clock::duration aging = seconds(300)) {
  MacTable::Options o;
  o.max_entries = max_entries;
  o.aging = aging;
  return o;
}

// (vlan, mac as integer), for comparing sets of entries.
using Key = std::pair<std::uint16_t, std::uint64_t>;

std::set<Key> LiveKeys(const MacTable& table, Clock::time_point now) {
  std::set<Key> keys;
  table.ForEach(now, [&](const MacTable::Entry& e) { keys.emplace(e.vlan, e.mac.AsU64()); });
  return keys;
}

TEST(MacTable, LearnedMacIsReturnedByLookup) {
  MacTable table(Opts(16));
  EXPECT_EQ(table.Learn(1, Mac(0x0200'0000'0001), Port(3), kT0), LearnResult::kLearned);
  EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0001), kT0), Port(3));
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, UnknownMacIsNotFound) {
  MacTable table(Opts(16));
  EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0001), kT0), std::nullopt);
  table.Learn(1, Mac(0x0200'0000'0001), Port(3), kT0);
  EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0002), kT0), std::nullopt);
}

TEST(MacTable, SameMacInTwoVlansIsTwoSeparateEntries) {
  MacTable table(Opts(16));
  const MacAddress mac = Mac(0x0200'0000'0001);
  EXPECT_EQ(table.Learn(10, mac, Port(1), kT0), LearnResult::kLearned);
  EXPECT_EQ(table.Lookup(20, mac, kT0), std::nullopt);
  EXPECT_EQ(table.Learn(20, mac, Peer(7), kT0), LearnResult::kLearned);
  EXPECT_EQ(table.Lookup(10, mac, kT0), Port(1));
  EXPECT_EQ(table.Lookup(20, mac, kT0), Peer(7));
  EXPECT_EQ(table.size(), 2u);
}

TEST(MacTable, LearningAgainAtTheSameLocationRefreshesTheEntry) {
  MacTable table(Opts(16, seconds(300)));
  const MacAddress mac = Mac(0x0200'0000'0001);
  table.Learn(1, mac, Port(1), kT0);
  EXPECT_EQ(table.Learn(1, mac, Port(1), kT0 + seconds(200)), LearnResult::kRefreshed);
  // Without the refresh the entry would have aged out at kT0 + 300 s.
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(400)), Port(1));
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(500)), std::nullopt);
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, MacSeenAtANewLocationMovesThere) {
  MacTable table(Opts(16));
  const MacAddress mac = Mac(0x0200'0000'0001);
  table.Learn(1, mac, Port(1), kT0);
  EXPECT_EQ(table.Learn(1, mac, Peer(1), kT0 + seconds(1)), LearnResult::kMoved);
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(1)), Peer(1));
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, EntryIsFoundJustBeforeAgingAndNotAtAging) {
  MacTable table(Opts(16, seconds(300)));
  const MacAddress mac = Mac(0x0200'0000'0001);
  table.Learn(1, mac, Port(1), kT0);
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(300) - nanoseconds(1)), Port(1));
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(300)), std::nullopt);
}

TEST(MacTable, ExpiredEntryIsNotReturnedByLookup) {
  MacTable table(Opts(16, seconds(300)));
  const MacAddress mac = Mac(0x0200'0000'0001);
  table.Learn(1, mac, Port(1), kT0);
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(301)), std::nullopt);
  // Lookup hides the aged entry but is const, so the slot stays occupied until a sweep.
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, LearningAnAgedOutMacCountsAsANewLearnInTheSameSlot) {
  MacTable table(Opts(16, seconds(300)));
  const MacAddress mac = Mac(0x0200'0000'0001);
  table.Learn(1, mac, Port(1), kT0);
  // A different location after aging is not a move: the old entry no longer counts.
  EXPECT_EQ(table.Learn(1, mac, Port(2), kT0 + seconds(301)), LearnResult::kLearned);
  EXPECT_EQ(table.Lookup(1, mac, kT0 + seconds(301)), Port(2));
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, ExpireRemovesOnlyAgedEntriesAndCountsThem) {
  MacTable table(Opts(64, seconds(300)));
  for (std::uint64_t i = 0; i < 10; ++i) table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
  for (std::uint64_t i = 10; i < 15; ++i) {
    table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0 + seconds(100));
  }
  const Clock::time_point now = kT0 + seconds(300);
  EXPECT_EQ(table.Expire(now), 10u);
  EXPECT_EQ(table.size(), 5u);
  for (std::uint64_t i = 10; i < 15; ++i) {
    EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0000 + i), now), Port(1)) << "i=" << i;
  }
  EXPECT_EQ(table.Expire(now), 0u);
}

TEST(MacTable, ExpireSomeLooksAtABoundedSliceAndGoesRoundTheWholeTable) {
  MacTable table(Opts(1024, seconds(300)));  // 2048 slots
  for (std::uint64_t i = 0; i < 600; ++i) table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
  for (std::uint64_t i = 600; i < 900; ++i)
    table.Learn(1, Mac(0x0200'0000'0000 + i), Port(2), kT0 + seconds(100));
  const Clock::time_point now = kT0 + seconds(300);
  // One slice of 64 slots holds about 19 of the 600 aged entries: never all of them.
  const std::size_t first = table.ExpireSome(now, 64);
  EXPECT_LT(first, 100u);
  std::size_t removed = first;
  // Two rounds of the table: an entry shifted behind the cursor is met on the next round.
  for (int slice = 1; slice < 2 * 2048 / 64; ++slice) removed += table.ExpireSome(now, 64);
  EXPECT_EQ(removed, 600u);
  EXPECT_EQ(table.size(), 300u);
  for (std::uint64_t i = 600; i < 900; ++i)
    EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0000 + i), now), Port(2)) << "i=" << i;
  EXPECT_EQ(table.ExpireSome(now, 4096), 0u);
  EXPECT_EQ(MacTable(Opts(16)).ExpireSome(now, 64), 0u);  // empty: nothing to do
}

TEST(MacTable, ForgetRemovesOnlyTheEntriesAtThatLocation) {
  MacTable table(Opts(64));
  // Port 1 and peer 1 share an index but are different locations.
  for (std::uint64_t i = 0; i < 30; ++i) {
    const Location where = i % 3 == 0 ? Port(1) : i % 3 == 1 ? Port(2) : Peer(1);
    table.Learn(static_cast<std::uint16_t>(i % 2), Mac(0x0200'0000'0000 + i), where, kT0);
  }
  EXPECT_EQ(table.Forget(Port(1)), 10u);
  EXPECT_EQ(table.size(), 20u);
  for (std::uint64_t i = 0; i < 30; ++i) {
    const auto found =
        table.Lookup(static_cast<std::uint16_t>(i % 2), Mac(0x0200'0000'0000 + i), kT0);
    if (i % 3 == 0) {
      EXPECT_EQ(found, std::nullopt) << "i=" << i;
    } else {
      EXPECT_EQ(found, i % 3 == 1 ? Port(2) : Peer(1)) << "i=" << i;
    }
  }
  EXPECT_EQ(table.Forget(Port(1)), 0u);
}

TEST(MacTable, ClearRemovesEverything) {
  MacTable table(Opts(64));
  for (std::uint64_t i = 0; i < 40; ++i) table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(LiveKeys(table, kT0).empty());
  EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0000), kT0), std::nullopt);
  EXPECT_EQ(table.Learn(1, Mac(0x0200'0000'0000), Port(2), kT0), LearnResult::kLearned);
}

TEST(MacTable, MacFloodFillsTheTableToMaxEntriesAndNoFurther) {
  constexpr std::size_t kMax = 500;
  MacTable table(Opts(kMax, seconds(300)));
  std::size_t learned = 0;
  std::size_t refused = 0;
  for (std::uint64_t i = 0; i < kMax + 1000; ++i) {
    const LearnResult r = table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
    if (r == LearnResult::kLearned) ++learned;
    if (r == LearnResult::kTableFull) ++refused;
  }
  EXPECT_EQ(learned, kMax);
  EXPECT_EQ(refused, 1000u);
  EXPECT_EQ(table.size(), kMax);
  EXPECT_EQ(LiveKeys(table, kT0).size(), kMax);
  // Known MACs still refresh and move while the table is full.
  EXPECT_EQ(table.Learn(1, Mac(0x0200'0000'0000), Port(1), kT0), LearnResult::kRefreshed);
  EXPECT_EQ(table.Learn(1, Mac(0x0200'0000'0001), Port(2), kT0), LearnResult::kMoved);
}

TEST(MacTable, FullTableLearnsNewMacsOnceItsEntriesHaveAged) {
  constexpr std::size_t kMax = 100;
  MacTable table(Opts(kMax, seconds(300)));
  for (std::uint64_t i = 0; i < kMax; ++i) table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
  EXPECT_EQ(table.Learn(1, Mac(0x0300'0000'0000), Port(1), kT0 + seconds(299)),
            LearnResult::kTableFull);
  // No Expire() call: Learn() itself sweeps the aged entries out.
  const Clock::time_point later = kT0 + seconds(300);
  for (std::uint64_t i = 0; i < kMax; ++i) {
    EXPECT_EQ(table.Learn(1, Mac(0x0300'0000'0000 + i), Port(2), later), LearnResult::kLearned)
        << "i=" << i;
  }
  EXPECT_EQ(table.size(), kMax);
  EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0000), later), std::nullopt);
  EXPECT_EQ(table.Lookup(1, Mac(0x0300'0000'0000), later), Port(2));
}

TEST(MacTable, FullTableSweepsForAgedEntriesAtMostOncePerSecond) {
  constexpr std::size_t kMax = 16;
  MacTable table(Opts(kMax, milliseconds(500)));
  for (std::uint64_t i = 0; i < kMax; ++i) table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
  // This sweep finds nothing and holds off the next one until kT0 + 1 s.
  EXPECT_EQ(table.Learn(1, Mac(0x0300'0000'0000), Port(1), kT0), LearnResult::kTableFull);
  const Clock::time_point aged = kT0 + milliseconds(600);
  EXPECT_TRUE(LiveKeys(table, aged).empty());
  EXPECT_EQ(table.Learn(1, Mac(0x0300'0000'0000), Port(1), aged), LearnResult::kTableFull);
  EXPECT_EQ(table.Learn(1, Mac(0x0300'0000'0000), Port(1), kT0 + seconds(1)),
            LearnResult::kLearned);
  EXPECT_EQ(table.size(), 1u);
}

TEST(MacTable, TableWithZeroMaxEntriesRefusesEveryMac) {
  MacTable table(Opts(0));
  EXPECT_EQ(table.Learn(1, Mac(0x0200'0000'0001), Port(1), kT0), LearnResult::kTableFull);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.Lookup(1, Mac(0x0200'0000'0001), kT0), std::nullopt);
}

TEST(MacTable, ForEachVisitsExactlyTheLiveEntries) {
  MacTable table(Opts(64, seconds(300)));
  // Aged by the time of the walk.
  for (std::uint64_t i = 0; i < 20; ++i) table.Learn(1, Mac(0x0200'0000'0000 + i), Port(1), kT0);
  // Removed before the walk.
  for (std::uint64_t i = 0; i < 10; ++i) table.Learn(5, Mac(0x0200'0000'0000 + i), Port(9), kT0);
  table.Forget(Port(9));
  // Live at the walk.
  std::set<Key> expected;
  for (std::uint64_t i = 0; i < 20; ++i) {
    const auto vlan = static_cast<std::uint16_t>(2 + i % 3);
    table.Learn(vlan, Mac(0x0200'0000'0000 + i), Peer(1), kT0 + seconds(200));
    expected.emplace(vlan, 0x0200'0000'0000 + i);
  }

  std::size_t visits = 0;
  std::set<Key> seen;
  table.ForEach(kT0 + seconds(300), [&](const MacTable::Entry& e) {
    ++visits;
    seen.emplace(e.vlan, e.mac.AsU64());
    EXPECT_EQ(e.where, Peer(1));
    EXPECT_EQ(e.last_seen, kT0 + seconds(200));
  });
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(visits, expected.size());  // each entry once
}

// The reference model: a std::map with the documented semantics, including the rate-limited
// sweep of a full table (kFullTableSweepInterval in mac_table.h, pushed back by every Expire()).
class ModelTable {
 public:
  explicit ModelTable(MacTable::Options o) : options_(o) {}

  LearnResult Learn(Key key, Location where, Clock::time_point now) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      LearnResult r = LearnResult::kLearned;
      if (Live(it->second, now)) {
        r = it->second.where == where ? LearnResult::kRefreshed : LearnResult::kMoved;
      }
      it->second = {where, now};
      return r;
    }
    if (entries_.size() >= options_.max_entries) {
      if (now < next_sweep_ || Expire(now) == 0) return LearnResult::kTableFull;
    }
    entries_.emplace(key, Value{where, now});
    return LearnResult::kLearned;
  }
  std::optional<Location> Lookup(Key key, Clock::time_point now) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || !Live(it->second, now)) return std::nullopt;
    return it->second.where;
  }
  std::size_t Expire(Clock::time_point now) {
    next_sweep_ = now + seconds(1);
    return std::erase_if(entries_, [&](const auto& kv) { return !Live(kv.second, now); });
  }
  std::size_t Forget(Location where) {
    return std::erase_if(entries_, [&](const auto& kv) { return kv.second.where == where; });
  }
  void Clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }
  std::set<Key> LiveKeys(Clock::time_point now) const {
    std::set<Key> keys;
    for (const auto& [key, value] : entries_) {
      if (Live(value, now)) keys.insert(key);
    }
    return keys;
  }

 private:
  struct Value {
    Location where;
    Clock::time_point last_seen;
  };
  bool Live(const Value& v, Clock::time_point now) const {
    return now - v.last_seen < options_.aging;
  }

  MacTable::Options options_;
  std::map<Key, Value> entries_;
  Clock::time_point next_sweep_ = Clock::time_point::min();
};

// Random learn/forget/expire/clear with a fake clock, checked against the model after every
// operation. Small tables and key pools a few times max_entries keep clusters long and wrapping
// around the end of the slot array, which is where backward-shift deletion goes wrong.
struct Coverage {
  std::map<LearnResult, int> learn_results;
  std::size_t expired = 0;
  std::size_t forgotten = 0;
};

struct DifferentialRun {
  std::size_t max_entries;
  std::size_t key_pool;  // distinct (vlan, mac) keys to draw from
  int ops;
  std::uint64_t max_step_ms;  // the clock advances by [0, max_step_ms) per op; aging is 5 s
  unsigned seed;
};

void RunDifferential(const DifferentialRun& run, Coverage* coverage) {
  SCOPED_TRACE(testing::Message() << "max_entries=" << run.max_entries << " seed=" << run.seed);
  const MacTable::Options options = Opts(run.max_entries, seconds(5));
  MacTable table(options);
  ModelTable model(options);
  std::mt19937_64 rng(run.seed);
  auto pick = [&](std::uint64_t n) {
    return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng);
  };
  auto key_at = [](std::uint64_t i) {
    // Three VLANs times one vendor prefix, like a real flood, so only the low bits differ.
    return Key{static_cast<std::uint16_t>(std::array{0, 1, 4095}[i % 3]), 0x5254'0000'0000 + i / 3};
  };
  const Location locations[] = {Port(0), Port(1), Peer(0), Peer(1), Peer(2)};
  Clock::time_point now = kT0;

  for (int op = 0; op < run.ops; ++op) {
    SCOPED_TRACE(testing::Message() << "op=" << op);
    now += milliseconds(pick(run.max_step_ms));
    const std::uint64_t dice = pick(1000);
    if (dice < 850) {
      const Key key = key_at(pick(run.key_pool));
      const Location where = locations[pick(std::size(locations))];
      const LearnResult r = table.Learn(key.first, Mac(key.second), where, now);
      ASSERT_EQ(r, model.Learn(key, where, now));
      ++coverage->learn_results[r];
    } else if (dice < 930) {
      const std::size_t n = table.Expire(now);
      ASSERT_EQ(n, model.Expire(now));
      coverage->expired += n;
    } else if (dice < 935) {
      const Location where = locations[pick(std::size(locations))];
      const std::size_t n = table.Forget(where);
      ASSERT_EQ(n, model.Forget(where));
      coverage->forgotten += n;
    } else if (dice < 936) {
      table.Clear();
      model.Clear();
    }  // else only time passes
    ASSERT_EQ(table.size(), model.size());
    for (std::uint64_t i = 0; i < run.key_pool; ++i) {
      const Key key = key_at(i);
      ASSERT_EQ(table.Lookup(key.first, Mac(key.second), now), model.Lookup(key, now)) << "i=" << i;
    }
    ASSERT_EQ(LiveKeys(table, now), model.LiveKeys(now));
  }
}

// Guards against a random walk that never reaches the interesting cases.
void ExpectEveryOutcome(const Coverage& c, bool expect_full) {
  EXPECT_GT(c.learn_results.count(LearnResult::kLearned), 0u);
  EXPECT_GT(c.learn_results.count(LearnResult::kRefreshed), 0u);
  EXPECT_GT(c.learn_results.count(LearnResult::kMoved), 0u);
  EXPECT_EQ(c.learn_results.count(LearnResult::kTableFull) > 0, expect_full);
  EXPECT_GT(c.expired, 0u);
  EXPECT_GT(c.forgotten, 0u);
}

TEST(MacTable, MatchesAMapModelUnderRandomOperationsInATinyTable) {
  Coverage c;
  RunDifferential({.max_entries = 8, .key_pool = 24, .ops = 5000, .max_step_ms = 300, .seed = 1},
                  &c);
  ExpectEveryOutcome(c, /*expect_full=*/true);
}

TEST(MacTable, MatchesAMapModelUnderRandomOperationsInAFullSmallTable) {
  Coverage c;
  RunDifferential({.max_entries = 100, .key_pool = 300, .ops = 5000, .max_step_ms = 20, .seed = 2},
                  &c);
  ExpectEveryOutcome(c, /*expect_full=*/true);
}

TEST(MacTable, MatchesAMapModelWhenTheTableIsNeverFull) {
  Coverage c;
  RunDifferential({.max_entries = 256, .key_pool = 200, .ops = 3000, .max_step_ms = 20, .seed = 3},
                  &c);
  ExpectEveryOutcome(c, /*expect_full=*/false);
}

}  // namespace
}  // namespace vdemesh::core

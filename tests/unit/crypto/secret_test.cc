// secret_test.cc: SecretBytes starts zero, wipes itself on move and destruction, never copies
// implicitly.
#include "crypto/secret.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <new>
#include <type_traits>

#include "tests/unit/crypto/test_util.h"

namespace vdemesh::crypto {
namespace {

using testing::Incrementing;

static_assert(!std::is_copy_constructible_v<Key32>, "secrets must not copy implicitly");
static_assert(!std::is_copy_assignable_v<Key32>);
static_assert(std::is_nothrow_move_constructible_v<Key32>);

TEST(SecretBytes, DefaultConstructedIsAllZero) {
  Key32 key;
  EXPECT_TRUE(key.IsZero());
}

TEST(SecretBytes, MoveConstructionWipesTheSource) {
  Key32 source = Incrementing<Key32>(1);
  const Key32 expected = Incrementing<Key32>(1);
  Key32 target(std::move(source));
  EXPECT_TRUE(target.Equals(expected));
  EXPECT_TRUE(source.IsZero());  // NOLINT(bugprone-use-after-move): the point of the test
}

TEST(SecretBytes, MoveAssignmentWipesTheSource) {
  Key32 source = Incrementing<Key32>(7);
  Key32 target = Incrementing<Key32>(100);
  target = std::move(source);
  EXPECT_TRUE(target.Equals(Incrementing<Key32>(7)));
  EXPECT_TRUE(source.IsZero());  // NOLINT(bugprone-use-after-move)
}

TEST(SecretBytes, CloneIsEqualButIndependent) {
  Key32 original = Incrementing<Key32>(3);
  Key32 copy = original.Clone();
  EXPECT_TRUE(copy.Equals(original));
  original.Wipe();
  EXPECT_TRUE(original.IsZero());
  EXPECT_FALSE(copy.IsZero());
}

TEST(SecretBytes, EqualsComparesEveryByte) {
  Key32 a = Incrementing<Key32>(0);
  Key32 b = Incrementing<Key32>(0);
  b.data()[31] ^= 1;
  EXPECT_FALSE(a.Equals(b));
}

TEST(SecretBytes, DestructorWipesItsStorage) {
  // Construct in storage we own so the bytes can be inspected after the destructor ran.
  alignas(Key32) unsigned char storage[sizeof(Key32)];
  Key32* key = new (storage) Key32(Incrementing<Key32>(1));
  ASSERT_FALSE(key->IsZero());
  key->~Key32();
  EXPECT_TRUE(
      std::all_of(std::begin(storage), std::end(storage), [](unsigned char c) { return c == 0; }));
}

}  // namespace
}  // namespace vdemesh::crypto

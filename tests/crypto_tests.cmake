# crypto_tests: known-answer vectors (RFC 8439, GCM spec, RFC 7748, published Noise XXpsk0
# vectors), the exhaustive replay-window test, key files. Included from tests/CMakeLists.txt,
# which has already done include(GoogleTest) and find_package(GTest).
set(_crypto_test_dir ${CMAKE_CURRENT_LIST_DIR}/unit/crypto)
add_executable(crypto_tests
  ${_crypto_test_dir}/aead_test.cc
  ${_crypto_test_dir}/key_file_test.cc
  ${_crypto_test_dir}/keys_test.cc
  ${_crypto_test_dir}/noise_test.cc
  ${_crypto_test_dir}/noise_vectors_test.cc
  ${_crypto_test_dir}/replay_window_test.cc
  ${_crypto_test_dir}/secret_test.cc
)
target_link_libraries(crypto_tests PRIVATE vdemesh_crypto GTest::gtest_main)
gtest_discover_tests(crypto_tests PROPERTIES LABELS unit)

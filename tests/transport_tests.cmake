# transport_tests: the datapath's event loop, wire layouts, the timer rules, the rate limiter,
# handshakes between Handshakers in memory, and endpoints. No network: Resolve() only ever sees numeric
# addresses, and time is passed in. Included from tests/CMakeLists.txt, which has already done
# include(GoogleTest) and find_package(GTest).
add_executable(transport_tests
  unit/common/event_loop_test.cc
  unit/transport/endpoint_test.cc
  unit/transport/handshaker_test.cc
  unit/transport/rate_limiter_test.cc
  unit/transport/timers_test.cc
  unit/transport/wire_test.cc
)
target_link_libraries(transport_tests PRIVATE vdemesh_transport GTest::gtest_main)
gtest_discover_tests(transport_tests PROPERTIES LABELS unit)


# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/vswitchd/control/control_server.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/control/control_server.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/control/control_server.cc.o.d"
  "/work/main/vswitchd/control/control_service.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/control/control_service.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/control/control_service.cc.o.d"
  "/work/main/vswitchd/core/mac_table.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/core/mac_table.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/core/mac_table.cc.o.d"
  "/work/main/vswitchd/core/switch_core.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/core/switch_core.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/core/switch_core.cc.o.d"
  "/work/main/vswitchd/core/vlan.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/core/vlan.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/core/vlan.cc.o.d"
  "/work/main/vswitchd/daemon/daemon.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/daemon/daemon.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/daemon/daemon.cc.o.d"
  "/work/main/vswitchd/daemon/logging.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/daemon/logging.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/daemon/logging.cc.o.d"
  "/work/main/vswitchd/daemon/options.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/daemon/options.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/daemon/options.cc.o.d"
  "/work/main/vswitchd/datapath/network_datapath.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/datapath/network_datapath.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/datapath/network_datapath.cc.o.d"
  "/work/main/vswitchd/datapath/rx.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/datapath/rx.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/datapath/rx.cc.o.d"
  "/work/main/vswitchd/datapath/tx.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/datapath/tx.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/datapath/tx.cc.o.d"
  "/work/main/vswitchd/vde/request.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/vde/request.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/vde/request.cc.o.d"
  "/work/main/vswitchd/vde/tap_port.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/vde/tap_port.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/vde/tap_port.cc.o.d"
  "/work/main/vswitchd/vde/vde_server.cc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/vde/vde_server.cc.o" "gcc" "vswitchd/CMakeFiles/vdemesh_vswitchd.dir/vde/vde_server.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build/proto/CMakeFiles/vdemesh_proto.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")

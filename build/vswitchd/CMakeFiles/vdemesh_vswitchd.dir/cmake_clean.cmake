file(REMOVE_RECURSE
  "CMakeFiles/vdemesh_vswitchd.dir/control/control_server.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/control/control_server.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/control/control_service.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/control/control_service.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/core/mac_table.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/core/mac_table.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/core/switch_core.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/core/switch_core.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/core/vlan.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/core/vlan.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/daemon/daemon.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/daemon/daemon.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/daemon/logging.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/daemon/logging.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/daemon/options.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/daemon/options.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/datapath/network_datapath.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/datapath/network_datapath.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/datapath/rx.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/datapath/rx.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/datapath/tx.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/datapath/tx.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/vde/request.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/vde/request.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/vde/tap_port.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/vde/tap_port.cc.o.d"
  "CMakeFiles/vdemesh_vswitchd.dir/vde/vde_server.cc.o"
  "CMakeFiles/vdemesh_vswitchd.dir/vde/vde_server.cc.o.d"
  "libvdemesh_vswitchd.a"
  "libvdemesh_vswitchd.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/vdemesh_vswitchd.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

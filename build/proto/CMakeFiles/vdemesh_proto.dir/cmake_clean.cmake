file(REMOVE_RECURSE
  "CMakeFiles/vdemesh_proto.dir/control.pb.cc.o"
  "CMakeFiles/vdemesh_proto.dir/control.pb.cc.o.d"
  "control.pb.cc"
  "control.pb.h"
  "libvdemesh_proto.a"
  "libvdemesh_proto.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/vdemesh_proto.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

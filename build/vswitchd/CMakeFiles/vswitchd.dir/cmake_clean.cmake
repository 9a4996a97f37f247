file(REMOVE_RECURSE
  "CMakeFiles/vswitchd.dir/daemon/main.cc.o"
  "CMakeFiles/vswitchd.dir/daemon/main.cc.o.d"
  "vswitchd"
  "vswitchd.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/vswitchd.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()

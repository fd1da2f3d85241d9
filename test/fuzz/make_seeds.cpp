// Writes a small seed corpus per format (valid files made by the test
// writers) into DIR/<format>/, for run.sh.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "formats_writers.h"

using namespace wsfmt;

static void save(const std::string& dir, const std::string& name, const Bytes& b) {
  FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (!f) {
    std::perror(name.c_str());
    std::exit(1);
  }
  std::fwrite(b.data(), 1, b.size(), f);
  std::fclose(f);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string root = argv[1];
  for (const char* d : {"xtc", "trr", "dcd", "netcdf", "lammps"}) mkdir((root + "/" + d).c_str(), 0755);
  for (int n : {3, 12, 40}) {
    Bytes x, t, dl, db;
    for (int f = 0; f < 2; f++) {
      System s = make_system(n, 2.0f, unsigned(n + f), f);
      xtc_frame(x, s, f, f * 0.1f, n == 40 ? 100.0f : 1000.0f, n == 12 ? 2023 : 1995);
      trr_frame(t, s, f, f * 0.1f, n == 12, true, f == 0, n == 40);
    }
    dcd_header(dl, n, true, true);
    dcd_header(db, n, false, false);
    for (int f = 0; f < 2; f++) {
      dcd_frame(dl, make_system(n, 2.0f, unsigned(f)), true, true);
      dcd_frame(db, make_system(n, 2.0f, unsigned(f)), false, false);
    }
    std::vector<System> frames = {make_system(n, 2.0f, 1), make_system(n, 2.0f, 2)};
    std::string l = lammps_snapshot(frames[0], 0, true) + lammps_snapshot(frames[1], 10, false, "id type xs ys zs", true);
    std::string tag = std::to_string(n);
    save(root + "/xtc", "seed" + tag, x);
    save(root + "/trr", "seed" + tag, t);
    save(root + "/dcd", "le" + tag, dl);
    save(root + "/dcd", "be" + tag, db);
    save(root + "/netcdf", "seed" + tag, netcdf_file(frames, 2, n == 12));
    save(root + "/lammps", "seed" + tag, Bytes(l.begin(), l.end()));
  }
  return 0;
}

{
  # node-gyp build of the same addon that CMakeLists.txt builds with cmake-js.
  # scripts/build-gyp.mjs runs it in build-gyp/ so the two builds never mix;
  # the test command loads the result and runs the channel tests against it.
  "targets": [
    {
      "target_name": "westream",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/addon').filter(f => f.endsWith('.cpp')).map(f => 'native/addon/' + f).join(' ')\")",
        "<!@(node -p \"['formats', 'kernels'].flatMap(d => require('fs').existsSync('native/' + d) ? require('fs').readdirSync('native/' + d).filter(f => f.endsWith('.cpp')).map(f => 'native/' + d + '/' + f) : []).join(' ')\")",
        "native/channel/consumer.cpp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "include",
        "native/channel",
        "native/formats",
        "native/kernels"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions"]
    }
  ]
}

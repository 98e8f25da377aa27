from monster_studio.launch import main

raise SystemExit(main())

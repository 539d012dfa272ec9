import torch, time, torchvision, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(2); torch.manual_seed(0)
def mk(cl):
    m=torchvision.models.resnet18(num_classes=10); m.conv1=nn.Conv2d(3,64,3,1,1,bias=False); m.maxpool=nn.Identity()
    if cl: m=m.to(memory_format=torch.channels_last)
    return m
x=torch.randn(128,3,28,28); y=torch.randint(0,10,(128,))
for rnd in range(2):
  for cl in (False, True):
    m=mk(cl); opt=torch.optim.Adam(m.parameters(),1e-3)
    xx = x.to(memory_format=torch.channels_last) if cl else x
    def step():
        opt.zero_grad(); F.cross_entropy(m(xx),y).backward(); opt.step()
    for _ in range(2): step()
    ts=[]
    for _ in range(4):
        t=time.perf_counter(); step(); ts.append(time.perf_counter()-t)
    ts.sort()
    m.eval()
    with torch.no_grad():
        for _ in range(2): m(xx)
        ti=[]
        for _ in range(4):
            t=time.perf_counter(); m(xx); ti.append(time.perf_counter()-t)
    ti.sort()
    print("channels_last" if cl else "contiguous   ", f"train {ts[1]*1e3:.0f} ms  infer {ti[1]*1e3:.0f} ms")

# Reference check in Python PyTorch (Debian python3-torch 1.13): the ISM architecture of MedVision.Nets (encoder,
# 6 residual blocks, decoder, tanh) trained alone with voxel L1 on CDSF-like phantoms (numpy port of PhantomGenerator,
# intensities in [-1, 1], ~80% background at -1), batch 4.
# Usage: /usr/bin/python3 ism_collapse.py LR STEPS [BETA1]
#   1e-3 61      -> output collapses to -1 everywhere by step 10 and L1 stays at the constant-background level (~0.25)
#   2e-4 61 0.5  -> escapes: L1 0.17 by step 20, 0.15 by step 60 (the CdsfTrainingOptions defaults)
import torch, torch.nn as nn, numpy as np, sys, time
torch.set_num_threads(2); torch.manual_seed(0)
N=36
def phantom(i, rng):
    n=N; c=(n-1)/2; J=lambda a:(rng.random()*2-1)*a
    cz,cy,cx=c+J(1.5),c+J(1.5),c+J(1.5); rz,ry,rx=n*.36+J(1.5),n*.40+J(1.5),n*.33+J(1.5); g=J(.15)
    z,y,x=np.meshgrid(np.arange(n),np.arange(n),np.arange(n),indexing='ij')
    dz,dy,dx=(z-cz)/rz,(y-cy)/ry,(x-cx)/rx; r=np.sqrt(dz*dz+dy*dy+dx*dx)
    inside=r<=1; shell=r>0.7
    m=np.where(inside,np.where(shell,.75,.45),0.); p=np.where(inside,np.where(shell,.8,.3)*(1+g*dz),0.)
    if i%2:
        lr=3+rng.random()*3; lz,ly,lx=cz+J(rz*.4),cy+J(ry*.4),cx+J(rx*.4)
        dl=np.sqrt((z-lz)**2+(y-ly)**2+(x-lx)**2)
        m=np.where(inside&(dl<=lr),m*.65,m); p=np.where(inside&(dl<=1.5*lr),p*.4,p)
    m=np.clip(m+.03*rng.standard_normal(m.shape),0,1); p=np.clip(p+.03*rng.standard_normal(p.shape),0,1)
    return m.astype(np.float32)*2-1,p.astype(np.float32)*2-1
rng=np.random.default_rng(0)
data=[phantom(i,rng) for i in range(48)]
M=torch.tensor(np.stack([d[0] for d in data]))[:,None]; P=torch.tensor(np.stack([d[1] for d in data]))[:,None]
class RB(nn.Module):
    def __init__(s,c): super().__init__(); s.b=nn.Sequential(nn.Conv3d(c,c,3,1,1),nn.InstanceNorm3d(c),nn.ReLU(),nn.Conv3d(c,c,3,1,1),nn.InstanceNorm3d(c))
    def forward(s,x): return x+s.b(x)
def ism():
    return nn.Sequential(nn.Conv3d(1,8,7,1,3),nn.InstanceNorm3d(8),nn.ReLU(),nn.Conv3d(8,16,3,2,1),nn.InstanceNorm3d(16),nn.ReLU(),nn.Conv3d(16,32,3,2,1),nn.InstanceNorm3d(32),nn.ReLU(),
      *[RB(32) for _ in range(6)], nn.ConvTranspose3d(32,32,3,2,1,1),nn.InstanceNorm3d(32),nn.ReLU(),nn.ConvTranspose3d(32,16,3,2,1,1),nn.InstanceNorm3d(16),nn.ReLU(),nn.Conv3d(16,1,7,1,3),nn.Tanh())
lr=float(sys.argv[1]); steps=int(sys.argv[2]); beta1=float(sys.argv[3]) if len(sys.argv)>3 else 0.9
net=ism(); opt=torch.optim.Adam(net.parameters(),lr,betas=(beta1,0.999))
t=time.time()
for s in range(steps):
    idx=torch.randint(0,48,(4,))
    out=net(M[idx]); loss=(out-P[idx]).abs().mean()
    opt.zero_grad(); loss.backward(); opt.step()
    if s%10==0: print(s, round(loss.item(),4), 'out mean %.3f min %.3f max %.3f'%(out.mean().item(),out.min().item(),out.max().item()), '%.1fs'%(time.time()-t), flush=True)
